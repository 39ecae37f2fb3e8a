package io.github.grad4j.cli;

import io.github.grad4j.io.TextFiles;
import io.github.grad4j.experiments.gpt2.Gpt2Evaluator;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.Gpt2ModelFiles;
import io.github.grad4j.experiments.gpt2.tokenizer.Gpt2Tokenizer;
import io.github.grad4j.report.Numbers;
import io.github.grad4j.report.Progress;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code gpt2 eval}: mean cross-entropy and perplexity of a text under a model, with {@link Gpt2Evaluator}. */
final class Gpt2EvalCommand implements Command {
    @Override
    public String name() {
        return "gpt2 eval";
    }

    @Override
    public String summary() {
        return "cross-entropy and perplexity of a UTF-8 text under a GPT-2 (sliding window)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("gpt2 eval --model DIR --text FILE [--stride N] [--max-tokens N]")
                .option("--model", "DIR", "Hugging Face folder (config.json, model.safetensors) or a gpt2 train --out folder", null)
                .option("--text", "FILE", "UTF-8 text to score; <|endoftext|> is the special token", null)
                .option("--stride", "N", "tokens each window advances; later windows score only their last N predictions "
                        + "(default: half the model's context)", null)
                .option("--max-tokens", "N", "score only the first N tokens of the text (default: all)", null)
                .common(null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help(summary()));
            return Main.OK;
        }
        if (!o.positional().isEmpty()) throw new UsageException("unexpected argument '" + o.positional().get(0) + "'");
        Path modelDir = o.path("--model");
        Path textFile = o.path("--text");
        Devices.apply(o);
        String text = TextFiles.readUtf8(textFile);
        int[] tokens = Gpt2Tokenizer.gpt2().encodeWithSpecial(text);
        if (o.has("--max-tokens")) {
            int max = o.integer("--max-tokens");
            if (max < 2) throw new UsageException("--max-tokens must be at least 2, got " + max);
            tokens = Arrays.copyOf(tokens, Math.min(max, tokens.length));
        }
        if (tokens.length < 2) {
            throw new IllegalArgumentException(textFile + ": the text has " + tokens.length
                    + " token(s); at least 2 are needed (one to predict from, one to predict)");
        }
        Gpt2Model model = Gpt2ModelFiles.load(modelDir);
        int context = model.config().nPositions();
        int stride = o.has("--stride") ? o.integer("--stride") : Math.max(1, context / 2);
        if (stride < 1 || stride > context) {
            throw new UsageException("--stride must be in [1, " + context + "] (the model's context), got " + stride);
        }
        long total = tokens.length - 1;
        Progress progress = Progress.builder(total).unitName("tok").out(out).build();
        long[] before = {0};
        Gpt2Evaluator.Result r;
        try {
            r = Gpt2Evaluator.evaluate(model, tokens, stride, scored -> {
                progress.update(scored, scored - before[0]);
                before[0] = scored;
            });
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(textFile + " under " + modelDir + ": " + e.getMessage(), e);
        }
        progress.finish();
        out.printf("mean cross-entropy %s nats/token, perplexity %s, tokens %d%n", Numbers.fixed(r.meanCrossEntropy(), 4, "NaN"),
                Numbers.fixed(r.perplexity(), 2, "NaN"), r.tokens());
        return Main.OK;
    }
}
