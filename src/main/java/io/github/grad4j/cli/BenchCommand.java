package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2TrainingBenchmark;
import io.github.grad4j.experiments.gpt2.tokenizer.TokenizerBenchmark;

import java.io.PrintStream;
import java.nio.file.Path;

/** {@code bench WHAT}: benchmarks that print figures and ratios against a baseline run in the same process. */
final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "benchmarks: tokenizer, gpt2-train";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("bench tokenizer [--text FILE] | bench gpt2-train [--layers N ...]")
                .positional("WHAT  tokenizer | gpt2-train (training tokens/s of a small GPT-2 on random tokens)")
                .option("--text", "FILE", "tokenizer: text to tokenize (default: 1 MB of generated English-like text)", null)
                .option("--layers", "N", "gpt2-train: transformer blocks", "2")
                .option("--heads", "N", "gpt2-train: attention heads", "2")
                .option("--embd", "N", "gpt2-train: width", "64")
                .option("--context", "N", "gpt2-train: tokens per window", "64")
                .option("--vocab", "N", "gpt2-train: vocabulary size", "50257")
                .option("--batch", "N", "gpt2-train: windows per step", "8")
                .option("--steps", "N", "gpt2-train: steps, the warm-up included", "20")
                .option("--warmup", "N", "gpt2-train: untimed first steps", "2")
                .common(null)
                .parse(args);
        if (o.helpRequested() || o.positional().isEmpty()) {
            out.print(o.help(summary()));
            return o.helpRequested() ? Main.OK : Main.USAGE;
        }
        String what = o.positional().get(0);
        switch (what) {
            case "tokenizer": {
                String text = o.stringOrNull("--text");
                out.println(TokenizerBenchmark.run(text == null ? null : Path.of(text)));
                return Main.OK;
            }
            case "gpt2-train": {
                Devices.apply(o);
                Gpt2Config config;
                try {
                    config = new Gpt2Config(o.integer("--layers"), o.integer("--heads"), o.integer("--embd"),
                            o.integer("--context"), o.integer("--vocab"));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
                out.println(Gpt2TrainingBenchmark.run(config, o.integer("--batch"), o.integer("--steps"), o.integer("--warmup")));
                return Main.OK;
            }
            default:
                throw new UsageException("unknown benchmark '" + what + "' (known: tokenizer, gpt2-train)");
        }
    }
}
