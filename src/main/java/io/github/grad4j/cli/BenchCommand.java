package io.github.grad4j.cli;

import io.github.grad4j.backend.cpu.CpuBenchmarks;
import io.github.grad4j.experiments.gpt2.tokenizer.TokenizerBenchmark;
import io.github.grad4j.experiments.meta.FewShotBenchmark;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code bench WHAT [options]}: benchmarks that print figures and, where one exists, a ratio
 * against a baseline measured in the same process. Each benchmark parses its own options.
 */
final class BenchCommand implements Command {

    /** One benchmark: a line of help and a runner over the remaining arguments. */
    private record Bench(String help, Runner runner) {
    }

    @FunctionalInterface
    private interface Runner {
        int run(String[] args, PrintStream out) throws Exception;
    }

    private static Map<String, Bench> benches() {
        Map<String, Bench> m = new LinkedHashMap<>();
        m.put("gemm", new Bench("matrix-multiply GFLOP/s of the cpu backend vs the reference [--quick]",
                (args, out) -> CpuBenchmarks.run(prepend("gemm", args))));
        m.put("gpt2-step", new Bench("GPT-2 124M training step B=4 T=64 AdamW, fused vs composite, per-op breakdown [--quick --steps --warmup --no-baseline]",
                io.github.grad4j.bench.ModelBenchmarks::gpt2Step));
        m.put("conv4", new Bench("Conv-4 ProtoNet episode 5-way 5-shot 15 queries, vs direct convolutions, the first block as separate ops, composite ops, reference [--episodes N --warmup N --no-baseline]",
                io.github.grad4j.bench.ModelBenchmarks::conv4));
        m.put("generate", new Bench("GPT-2 greedy generation with the KV cache, tokens/s [--quick]",
                io.github.grad4j.bench.ModelBenchmarks::generate));
        m.put("meta", new Bench("time and heap per meta-batch of MAML / Meta-SGD / Bayesian-TAML [--method maml|metasgd|btaml ...]",
                MetaLearningRunner::bench));
        m.put("tokenizer", new Bench("GPT-2 BPE throughput in MB/s [--text FILE]", BenchCommand::tokenizer));
        m.put("gpt2-train", new Bench("training tokens/s of a GPT-2 on random tokens [--layers --heads --embd --context --batch ...]",
                BenchCommand::gpt2Train));
        m.put("fewshot", new Bench("time per few-shot training episode [--method protonet|tpn --way --shot ...]",
                BenchCommand::fewshot));
        return m;
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "benchmarks: " + String.join(", ", benches().keySet());
    }

    @Override
    public int run(String[] args, PrintStream out) throws Exception {
        Map<String, Bench> benches = benches();
        if (args.length == 0 || args[0].equals("--help")) {
            StringBuilder sb = new StringBuilder("usage: java -jar grad4j.jar bench WHAT [options]   (bench WHAT --help)\n\n");
            for (Map.Entry<String, Bench> e : benches.entrySet()) {
                sb.append(String.format("  %-12s %s%n", e.getKey(), e.getValue().help()));
            }
            out.print(sb);
            return args.length == 0 ? Main.USAGE : Main.OK;
        }
        Bench b = benches.get(args[0]);
        if (b == null) throw new UsageException("unknown benchmark '" + args[0] + "' (known: " + String.join(", ", benches.keySet()) + ")");
        return b.runner().run(Arrays.copyOfRange(args, 1, args.length), out);
    }

    private static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static int tokenizer(String[] args, PrintStream out) throws Exception {
        Options o = new Options("bench tokenizer [--text FILE]")
                .option("--text", "FILE", "text to tokenize (default: 1 MB of generated English-like text)", null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("GPT-2 BPE tokenizer throughput (median of 5 runs after warm-up)"));
            return Main.OK;
        }
        String text = o.stringOrNull("--text");
        out.println(TokenizerBenchmark.run(text == null ? null : Path.of(text)));
        return Main.OK;
    }

    private static int gpt2Train(String[] args, PrintStream out) throws Exception {
        Options o = new Options("bench gpt2-train [options]")
                .option("--layers", "N", "transformer blocks", "2")
                .option("--heads", "N", "attention heads", "2")
                .option("--embd", "N", "width", "64")
                .option("--context", "N", "tokens per window", "64")
                .option("--vocab", "N", "vocabulary size", "50257")
                .option("--batch", "N", "windows per step", "8")
                .option("--steps", "N", "steps, the warm-up included", "20")
                .option("--warmup", "N", "untimed first steps", "2")
                .common(null)
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("Median training-step time (forward, backward, AdamW) of a GPT-2 on random tokens"));
            return Main.OK;
        }
        Devices.apply(o);
        io.github.grad4j.experiments.gpt2.Gpt2Config config;
        try {
            config = new io.github.grad4j.experiments.gpt2.Gpt2Config(o.integer("--layers"), o.integer("--heads"),
                    o.integer("--embd"), o.integer("--context"), o.integer("--vocab"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        out.println(io.github.grad4j.experiments.gpt2.Gpt2TrainingBenchmark.run(config, o.integer("--batch"),
                o.integer("--steps"), o.integer("--warmup")));
        return Main.OK;
    }

    private static int fewshot(String[] args, PrintStream out) throws Exception {
        Options o = new Options("bench fewshot [options]")
                .option("--method", "protonet|tpn", "the learner", "protonet")
                .option("--way", "N", "classes per episode", "5")
                .option("--shot", "K", "support images per class", "5")
                .option("--query", "Q", "queries per class", "15")
                .option("--filters", "N", "Conv-4 channels", "64")
                .option("--image-size", "S", "image side", "28")
                .option("--steps", "N", "timed episodes (after 2 warm-up episodes)", "5")
                .option("--device", "cpu|opencl|auto|reference", "where to compute", "cpu")
                .parse(args);
        if (o.helpRequested()) {
            out.print(o.help("Time per episode: forward + backward + Adam step, median over the timed episodes"));
            return Main.OK;
        }
        String device = o.string("--device");
        Devices.select(device, out);
        out.println("device " + device + ": " + FewShotBenchmark.time(o.string("--method"), o.integer("--way"),
                o.integer("--shot"), o.integer("--query"), o.integer("--filters"), o.integer("--image-size"), 2,
                o.integer("--steps")));
        return Main.OK;
    }
}
