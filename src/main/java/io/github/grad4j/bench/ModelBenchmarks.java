package io.github.grad4j.bench;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Profiler;
import io.github.grad4j.backend.cpu.CpuBackend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Generator;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.nn.BatchNorm2d;
import io.github.grad4j.nn.Conv2d;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.nn.MaxPool2d;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Fusion;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Model-level benchmarks ({@code bench gpt2-step | conv4 | generate}): each measures the fused
 * path of the cpu backend and, in the same process, a baseline (the composite path under
 * {@link Fusion#disabled()} on the cpu backend, and the reference backend where it is feasible),
 * and prints the figures and their ratio. Medians of wall time after warm-up; the process CPU time
 * of the median run is printed next to it because the machines are shared.
 */
public final class ModelBenchmarks {
    private ModelBenchmarks() {
    }

    /** A workload: one timed unit of work (a training step, an episode, a generation) on a backend. */
    private interface Workload {
        void run();
    }

    private record Result(String label, Measure.Time median, double peakHeapMiB, int runs) {
    }

    private static Result measure(String label, Backend backend, boolean fused, Supplier<Workload> setup, int warmup,
                                  int runs, boolean profile, PrintStream out) {
        Backend previous = Backends.defaultBackend();
        Backends.setDefault(backend);
        try (Fusion.Scope ignored = fused ? () -> { } : Fusion.disabled()) {
            Workload w = setup.get();
            for (int i = 0; i < warmup; i++) w.run();
            System.gc();
            Measure.resetPeakHeap();
            List<Measure.Time> times = new ArrayList<>();
            for (int i = 0; i < runs; i++) times.add(Measure.time(w::run));
            double peak = Measure.peakHeapMiB();
            Result r = new Result(label, Measure.median(times), peak, runs);
            // the fastest run too: on a shared host other tenants only ever add time, so it moves less between runs
            double fastest = times.stream().mapToDouble(Measure.Time::wall).min().orElse(Double.NaN);
            out.printf("  %-44s %9.3f s wall  %9.3f s cpu  peak heap %7.0f MiB   (median of %d; fastest %.3f s)%n", label,
                    r.median.wall(), r.median.cpu(), peak, runs, fastest);
            if (profile) {
                // averaged over up to 10 more runs (about 2 s of them): one run's figures move with the host's load
                int profiled = (int) Math.max(1, Math.min(Math.min(runs, 10), 2.0 / r.median.wall()));
                Profiler.enable();
                long start = System.nanoTime();
                for (int i = 0; i < profiled; i++) w.run();
                double wall = (System.nanoTime() - start) / 1e9 / profiled;
                Profiler.disable();
                out.printf("  profile of %s (%.3f s wall per run with the profiler on), by kernel:%n",
                        profiled == 1 ? "one more run" : profiled + " more runs", wall);
                out.print(Measure.profileTable(profiled, wall, 30));
            }
            return r;
        } finally {
            Backends.setDefault(previous);
        }
    }

    private static void ratio(PrintStream out, Result fast, Result baseline) {
        out.printf("  ratio %s / %s: %.2fx faster (wall), %.2fx (cpu time)%n", baseline.label, fast.label,
                baseline.median.wall() / fast.median.wall(), baseline.median.cpu() / fast.median.cpu());
    }

    private static int intOption(String[] args, String name, int dflt) {
        for (int i = 0; i + 1 < args.length; i++) if (args[i].equals(name)) return Integer.parseInt(args[i + 1]);
        return dflt;
    }

    private static boolean flag(String[] args, String name) {
        for (String a : args) if (a.equals(name)) return true;
        return false;
    }

    private static CpuBackend cpu(PrintStream out) {
        CpuBackend cpu = CpuBackend.create();
        out.println("machine: " + Measure.jvmLine());
        out.println("cpu backend: " + cpu.describe());
        return cpu;
    }

    // ---------------------------------------------------------------- gpt2-step

    /** {@code bench gpt2-step [--quick] [--steps N] [--warmup N] [--no-baseline]}. */
    public static int gpt2Step(String[] args, PrintStream out) {
        boolean quick = flag(args, "--quick");
        int steps = intOption(args, "--steps", quick ? 10 : 3), warmup = intOption(args, "--warmup", quick ? 30 : 2);
        boolean baseline = !flag(args, "--no-baseline");
        CpuBackend cpu = cpu(out);
        Gpt2Config config = quick ? new Gpt2Config(2, 2, 64, 64, 512) : Gpt2Config.gpt2Small();
        int b = quick ? 4 : 4, t = quick ? 32 : 64;
        out.printf("GPT-2 training step: %d layers, %d heads, width %d, vocab %d; B=%d, T=%d; AdamW (lr 6e-4, wd 0.1, "
                        + "decay on matrices); GPT-2 init, random tokens%n", config.nLayer(), config.nHead(), config.nEmbd(),
                config.vocabSize(), b, t);
        Supplier<Workload> setup = () -> {
            Rng rng = new Rng(42);
            Gpt2Model model = new Gpt2Model(config, rng);
            model.train(true);
            Optimizer opt = new AdamW(model.namedParameters(), 6e-4, 0.9, 0.95, 1e-8, 0.1)
                    .setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
            int[] ids = new int[b * t], targets = new int[b * t];
            Rng data = new Rng(7);
            for (int i = 0; i < ids.length; i++) ids[i] = (int) (data.nextDouble() * config.vocabSize());
            for (int i = 0; i < ids.length; i++) targets[i] = i + 1 < ids.length ? ids[i + 1] : 0;
            Tensor x = Tensor.ofInts(ids, b, t), y = Tensor.ofInts(targets, b, t);
            return () -> {
                opt.zeroGrad();
                Tensor loss = model.loss(x, y);
                loss.backward();
                opt.step();
            };
        };
        Result fused = measure("cpu, fused kernels", cpu, true, setup, warmup, steps, true, out);
        if (baseline) {
            Result unfused = measure("cpu, composite ops (Fusion.disabled)", cpu, false, setup, warmup, steps, !quick, out);
            ratio(out, fused, unfused);
            if (quick) {
                Result ref = measure("reference backend (float32 storage)", ReferenceBackend.INSTANCE, false, setup, 1, 1, false, out);
                ratio(out, fused, ref);
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------- conv4

    /** {@code bench conv4 [--episodes N] [--warmup N] [--no-baseline]}: a prototypical-network episode. */
    public static int conv4(String[] args, PrintStream out) {
        // 20 warm-up episodes: after 5, the next ten still ran while the JIT compiled (process CPU
        // 0.27-0.41 s per episode against 0.16-0.19 s once warm, and medians 0.15-0.22 s against 0.11-0.12 s)
        int episodes = intOption(args, "--episodes", 10), warmup = intOption(args, "--warmup", 20);
        boolean baseline = !flag(args, "--no-baseline");
        CpuBackend cpu = cpu(out);
        int ways = 5, shots = 5, queries = 15, size = 28;
        out.printf("Conv-4 prototypical network episode: %d-way %d-shot, %d queries per class, %dx%d, 64 filters; "
                + "forward + backward + Adam%n", ways, shots, queries, size, size);
        Supplier<Workload> setup = () -> {
            Rng rng = new Rng(3);
            List<Layer> layers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                layers.add(new Conv2d(i == 0 ? 1 : 64, 64, 3, 1, 1, rng));
                layers.add(new BatchNorm2d(64));
                layers.add(new ReLU());
                layers.add(new MaxPool2d(2));
            }
            Sequential net = new Sequential(layers.toArray(new Layer[0]));
            net.train(true);
            Optimizer opt = new Adam(net.namedParameters(), 1e-3);
            int n = ways * (shots + queries);
            Tensor images = Tensor.randn(new Rng(4), 1.0, DType.FLOAT32, n, 1, size, size);
            int[] labels = new int[ways * queries];
            for (int i = 0; i < labels.length; i++) labels[i] = i / queries;
            Tensor queryLabels = Tensor.ofInts(labels, labels.length);
            return () -> {
                opt.zeroGrad();
                Tensor z = net.forward(images).reshape(n, -1); // [n, 64]
                Tensor support = z.narrow(0, 0, ways * shots).reshape(ways, shots, -1);
                Tensor prototypes = io.github.grad4j.ops.Reductions.mean(support, false, 1); // [ways, 64]
                Tensor q = z.narrow(0, ways * shots, ways * queries); // [75, 64]
                // squared distances |q|^2 - 2 q.p + |p|^2
                Tensor qq = io.github.grad4j.ops.Reductions.sum(q.mul(q), true, 1);
                Tensor pp = io.github.grad4j.ops.Reductions.sum(prototypes.mul(prototypes), false, 1);
                Tensor d = qq.sub(q.matmul(prototypes.mT()).mul(2)).add(pp);
                Tensor loss = Functional.crossEntropy(d.neg(), queryLabels);
                loss.backward();
                opt.step();
            };
        };
        Result fused = measure("cpu, fused kernels", cpu, true, setup, warmup, episodes, true, out);
        if (baseline) {
            if (cpu.winograd()) {
                interleaved(out, "the same kernels but direct convolutions (no Winograd)", setup, warmup, episodes,
                        new Arm("Winograd", cpu, Fusion::enabledScope), new Arm("direct", cpu.withDirectConvolutions(), Fusion::enabledScope));
            }
            // the first block (one channel in) as one op recomputing its convolution, or as its ops keeping it
            interleaved(out, "the first block as separate ops (its convolution's output kept)", setup, warmup, episodes,
                    new Arm("one op", cpu, Fusion::enabledScope), new Arm("separate", cpu, Fusion::withoutConvolutionBlocks));
            Result unfused = measure("cpu, composite ops (Fusion.disabled)", cpu, false, setup, warmup, episodes, false, out);
            ratio(out, fused, unfused);
            Result ref = measure("reference backend (float32 storage)", ReferenceBackend.INSTANCE, false, setup, 0, 1, false, out);
            ratio(out, fused, ref);
        }
        return 0;
    }

    /** One side of an interleaved comparison: the backend it runs on and the fusion scope it runs in. */
    private record Arm(String name, Backend backend, Supplier<Fusion.Scope> scope) {
    }

    /**
     * The workload on two arms, one run of each in turn (so that a shared host's changing load falls
     * on both alike), each with its own workload built and warmed up on its backend in its scope:
     * both medians, and the median of the per-pair ratios second / first.
     */
    private static void interleaved(PrintStream out, String against, Supplier<Workload> setup, int warmup, int runs,
                                    Arm first, Arm second) {
        if (runs < 1) return;
        Arm[] arms = {first, second};
        Workload[] w = new Workload[2];
        List<List<Measure.Time>> times = List.of(new ArrayList<>(), new ArrayList<>());
        Backend previous = Backends.defaultBackend();
        try {
            for (int i = 0; i < 2; i++) {
                Backends.setDefault(arms[i].backend());
                try (Fusion.Scope ignored = arms[i].scope().get()) {
                    w[i] = setup.get();
                    for (int j = 0; j < warmup; j++) w[i].run();
                }
            }
            for (int r = 0; r < runs; r++) {
                for (int i = 0; i < 2; i++) {
                    Backends.setDefault(arms[i].backend());
                    try (Fusion.Scope ignored = arms[i].scope().get()) {
                        times.get(i).add(Measure.time(w[i]::run));
                    }
                }
            }
        } finally {
            Backends.setDefault(previous);
        }
        double[] ratios = new double[runs];
        for (int r = 0; r < runs; r++) ratios[r] = times.get(1).get(r).wall() / times.get(0).get(r).wall();
        java.util.Arrays.sort(ratios);
        out.printf("  interleaved with %s, %d runs each:%n", against, runs);
        out.printf("    %s %.3f s, %s %.3f s (medians); per pair, %s / %s: median %.2fx (quartiles %.2f-%.2f)%n",
                first.name(), Measure.median(times.get(0)).wall(), second.name(), Measure.median(times.get(1)).wall(),
                second.name(), first.name(), ratios[runs / 2], ratios[runs / 4], ratios[(3 * runs) / 4]);
    }

    // ---------------------------------------------------------------- generate

    /** {@code bench generate [--quick] [--tokens N] [--no-baseline]}: greedy decoding with the KV cache. */
    public static int generate(String[] args, PrintStream out) {
        boolean quick = flag(args, "--quick");
        int tokens = intOption(args, "--tokens", quick ? 64 : 32);
        boolean baseline = !flag(args, "--no-baseline");
        CpuBackend cpu = cpu(out);
        Gpt2Config config = quick ? new Gpt2Config(2, 2, 64, 128, 512) : Gpt2Config.gpt2Small();
        int promptLength = 16;
        out.printf("GPT-2 generation: %d layers, width %d, vocab %d; prompt %d tokens, %d new tokens, greedy, KV cache%n",
                config.nLayer(), config.nEmbd(), config.vocabSize(), promptLength, tokens);
        Supplier<Workload> setup = () -> {
            Gpt2Model model = new Gpt2Model(config, new Rng(42));
            Gpt2Generator gen = new Gpt2Generator(model);
            int[] prompt = new int[promptLength];
            for (int i = 0; i < prompt.length; i++) prompt[i] = (i * 131) % config.vocabSize();
            Gpt2Generator.Options o = Gpt2Generator.Options.sampling(tokens).withTemperature(0).withStopToken(-1);
            return () -> gen.generate(prompt, o, new Rng(1));
        };
        int runs = quick ? 5 : 3;
        Result fused = measure("cpu, fused kernels", cpu, true, setup, 1, runs, !quick, out);
        out.printf("  %.1f tokens/s (wall), prompt included in the time%n", tokens / fused.median.wall());
        if (baseline) {
            Result unfused = measure("cpu, composite ops (Fusion.disabled)", cpu, false, setup, 1, runs, false, out);
            out.printf("  %.1f tokens/s (wall)%n", tokens / unfused.median.wall());
            ratio(out, fused, unfused);
            if (quick) {
                Result ref = measure("reference backend (float32 storage)", ReferenceBackend.INSTANCE, false, setup, 1, 2, false, out);
                out.printf("  %.1f tokens/s (wall)%n", tokens / ref.median.wall());
                ratio(out, fused, ref);
            }
        }
        return 0;
    }
}
