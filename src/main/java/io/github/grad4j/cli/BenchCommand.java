package io.github.grad4j.cli;

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
        return "benchmarks: gemm, tokenizer, gpt2-step, conv4, generate (figures and ratios against a baseline in the same run)";
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        if (args.length > 0 && args[0].equals("gemm")) {
            // the GEMM benchmark parses its own options (--quick)
            return io.github.grad4j.backend.cpu.CpuBenchmarks.run(args);
        }
        if (args.length > 0 && args[0].equals("gpt2-step")) return io.github.grad4j.bench.ModelBenchmarks.gpt2Step(args, out);
        if (args.length > 0 && args[0].equals("conv4")) return io.github.grad4j.bench.ModelBenchmarks.conv4(args, out);
        if (args.length > 0 && args[0].equals("generate")) return io.github.grad4j.bench.ModelBenchmarks.generate(args, out);
        Options o = new Options("bench gemm|tokenizer [options]")
                .positional("WHAT  gemm: matrix-multiply GFLOP/s of the cpu backend against the reference\n"
                        + "      tokenizer: GPT-2 BPE throughput in MB/s (--text FILE)\n"
                        + "      gpt2-step: GPT-2 124M training step, B=4 T=64, AdamW (--quick: tiny config; --steps N, --warmup N)\n"
                        + "      conv4: Conv-4 prototypical-network episode, 5-way 5-shot 15 queries (--episodes N)\n"
                        + "      generate: GPT-2 124M greedy generation with the KV cache, tokens/s (--quick: tiny config)")
                .option("--text", "FILE", "text to tokenize (default: 1 MB of generated English-like text)", null)
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
            default:
                throw new UsageException("unknown benchmark '" + what + "' (known: gemm, tokenizer, gpt2-step, conv4, generate)");
        }
    }
}
