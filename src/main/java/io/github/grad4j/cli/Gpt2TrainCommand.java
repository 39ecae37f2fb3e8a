package io.github.grad4j.cli;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.Gpt2Trainer;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.report.Numbers;
import io.github.grad4j.tensor.Rng;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code gpt2 train}: trains a GPT-2 from scratch on a text file or folder with {@link Gpt2Trainer}. */
final class Gpt2TrainCommand implements Command {
    @Override
    public String name() {
        return "gpt2 train";
    }

    @Override
    public String summary() {
        return "train a GPT-2 from scratch on UTF-8 text (checkpoints, log, loss plot; --resume)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("gpt2 train --text PATH --out DIR [options]")
                .option("--text", "PATH", "UTF-8 text file, or a folder whose *.txt files are joined with <|endoftext|>", null)
                .option("--out", "DIR", "output folder: checkpoint, log.csv, loss.png and the final model (Hugging Face files)", null)
                .flag("--resume", "continue the run in --out from its checkpoint (same settings; same losses as without a stop)")
                .option("--layers", "N", "transformer blocks", "2")
                .option("--heads", "N", "attention heads (must divide --embd)", "2")
                .option("--embd", "N", "width of the residual stream", "64")
                .option("--context", "N", "tokens per training window, also the model's context length", "64")
                .option("--dropout", "X", "dropout rate", "0.0")
                .option("--batch", "N", "windows per step", "8")
                .option("--steps", "N", "optimizer steps", "200")
                .option("--lr", "X", "peak learning rate (AdamW, betas 0.9, 0.95)", "1e-3")
                .option("--min-lr", "X", "final learning rate of the cosine decay (default lr / 10)", null)
                .option("--warmup", "N", "linear warmup steps (default steps / 10)", null)
                .option("--weight-decay", "X", "AdamW weight decay on matrices and embeddings", "0.1")
                .option("--grad-clip", "X", "largest global gradient norm", "1.0")
                .option("--val-fraction", "X", "last fraction of the tokens held out for validation", "0.1")
                .option("--eval-interval", "N", "validate every N steps (default steps / 10)", null)
                .option("--eval-batches", "N", "validation batches of evenly spaced windows", "8")
                .option("--checkpoint-interval", "N", "save the training state every N steps (default steps / 4)", null)
                .common(null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        if (!o.positional().isEmpty()) throw new UsageException("unexpected argument '" + o.positional().get(0) + "'");
        Path text = o.path("--text");
        Path outDir = o.path("--out");
        Backend backend = Devices.apply(o);
        int steps = positive(o, "--steps");
        int context = positive(o, "--context");
        double lr = o.real("--lr");
        Gpt2Trainer.Config config;
        Gpt2Config modelConfig;
        try {
            config = new Gpt2Trainer.Config(steps, positive(o, "--batch"), context, lr,
                    o.has("--min-lr") ? o.real("--min-lr") : lr / 10,
                    o.has("--warmup") ? o.integer("--warmup") : steps / 10,
                    o.real("--weight-decay"), 0.9, 0.95, o.real("--grad-clip"),
                    o.has("--eval-interval") ? positive(o, "--eval-interval") : Math.max(1, steps / 10),
                    positive(o, "--eval-batches"),
                    o.has("--checkpoint-interval") ? positive(o, "--checkpoint-interval") : Math.max(1, steps / 4),
                    o.longValue("--seed"), outDir);
            modelConfig = new Gpt2Config(positive(o, "--layers"), positive(o, "--heads"), positive(o, "--embd"), context,
                    Gpt2Tokenizer.gpt2().vocabSize(), 1e-5, o.real("--dropout"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        double valFraction = o.real("--val-fraction");
        if (!(valFraction > 0 && valFraction < 1)) throw new UsageException("--val-fraction must be in (0, 1), got " + valFraction);

        TokenDataset all = TokenDataset.load(text, Gpt2Tokenizer.gpt2(), outDir.resolve("token-cache"));
        TokenDataset[] parts = all.split(valFraction);
        Gpt2Model model = new Gpt2Model(modelConfig, new Rng(config.seed()));
        out.printf("gpt2 train: %d parameters (%d layers, %d heads, width %d, context %d), %d training and %d validation "
                        + "tokens from %s, on %s%n", model.parameterCount(), modelConfig.nLayer(), modelConfig.nHead(),
                modelConfig.nEmbd(), context, parts[0].size(), parts[1].size(), text, backend.name());
        Gpt2Trainer trainer = new Gpt2Trainer(model, parts[0], parts[1], config).progressTo(out);
        Gpt2Trainer.Result result = trainer.train(o.has("--resume"));
        if (result.log().isEmpty()) {
            out.println("done: the checkpoint in " + outDir + " is already at the last step; its log is missing");
            return Main.OK;
        }
        Gpt2Trainer.LogRow last = result.log().get(result.log().size() - 1);
        out.printf("done: step %d, train loss %s, validation loss %s, %s tokens/s (mean after the first step)%n", last.step(),
                Numbers.fixed(last.trainLoss(), 4, "NaN"), Numbers.fixed(result.lastValidationLoss(), 4, "NaN"),
                Numbers.sig(result.tokensPerSecond(Math.min(1, result.log().size() - 1), config.batchSize() * context), 4));
        out.println("model: " + outDir + " (use it with gpt2 eval/generate --model " + outDir + "); log: "
                + outDir.resolve(Gpt2Trainer.LOG_FILE) + "; plot: " + outDir.resolve(Gpt2Trainer.PLOT_FILE));
        return Main.OK;
    }

    private static int positive(Options o, String name) {
        int v = o.integer(name);
        if (v < 1) throw new UsageException(name + " must be at least 1, got " + v);
        return v;
    }
}
