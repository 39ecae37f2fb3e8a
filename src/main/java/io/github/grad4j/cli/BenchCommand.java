package io.github.grad4j.cli;

import io.github.grad4j.experiments.gpt2.tokenizer.TokenizerBenchmark;
import io.github.grad4j.experiments.meta.FewShotBenchmark;

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
        return "benchmarks: tokenizer, fewshot";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Options o = new Options("bench tokenizer [--text FILE] | bench fewshot [--method M --way N --shot K --query Q --filters F --steps N]")
                .positional("WHAT  tokenizer | fewshot")
                .option("--text", "FILE", "text to tokenize (default: 1 MB of generated English-like text)", null)
                .option("--method", "protonet|tpn", "fewshot: the learner", "protonet")
                .option("--way", "N", "fewshot: classes per episode", "5")
                .option("--shot", "K", "fewshot: support images per class", "5")
                .option("--query", "Q", "fewshot: queries per class", "15")
                .option("--filters", "N", "fewshot: Conv-4 channels", "64")
                .option("--image-size", "S", "fewshot: image side", "28")
                .option("--steps", "N", "fewshot: timed steps (after 2 warm-up steps)", "5")
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
            case "fewshot": {
                out.println(FewShotBenchmark.time(o.string("--method"), o.integer("--way"), o.integer("--shot"),
                        o.integer("--query"), o.integer("--filters"), o.integer("--image-size"), 2, o.integer("--steps")));
                return Main.OK;
            }
            default:
                throw new UsageException("unknown benchmark '" + what + "' (known: tokenizer, fewshot)");
        }
    }
}
