package io.github.grad4j.experiments.quant;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The gradient analysis of the three range parameterizations ({@code quant analyze}): a grid of
 * data set x parameterization x bit width x learning rate x optimizer x seed, each run training only
 * the quantization ranges from 0.6 x the data's min/max, recording per step the range parameters,
 * their gradients split into inside/below/above contributions, the effective range and the loss.
 *
 * <p>Outputs under the output folder: {@code steps.csv} (long format, one row per run, step,
 * quantizer, parameter and channel), {@code losses.csv}, {@code runs.csv}, {@code cells.csv}
 * (seeds aggregated), {@code grad_scaling.csv}, {@code toy_table.md}, {@code summary.txt}, and
 * {@code plots/} (PNG plots and the data behind each).
 * Deterministic given the seed: runs are independent and written in grid order whatever the threads.
 */
public final class QuantGradientAnalysis {

    /** The grid and run sizes. */
    public record Grid(List<AnalysisTask.Dataset> datasets, List<Parameterization> params, int[] bits, double[] lrs,
                List<RangeOptimizer.Kind> optimizers, int seeds, int steps, int size, int channels, int toyN, int recordEvery) {
        int runCount() {
            return datasets.size() * params.size() * bits.length * lrs.length * optimizers.size() * seeds;
        }

        /** This grid with another number of seeds per cell (at least 1). */
        public Grid withSeeds(int n) {
            if (n < 1) throw new IllegalArgumentException("seeds must be at least 1, got " + n);
            return new Grid(datasets, params, bits, lrs, optimizers, n, steps, size, channels, toyN, recordEvery);
        }

        /** This grid with another number of optimizer steps per run (at least 1). */
        public Grid withSteps(int n) {
            if (n < 1) throw new IllegalArgumentException("steps must be at least 1, got " + n);
            return new Grid(datasets, params, bits, lrs, optimizers, seeds, n, size, channels, toyN, recordEvery);
        }

        /** This grid with learning rates 1e-5 .. 1e0 at {@code perDecade} points per decade (at least 1). */
        public Grid withLrPerDecade(int perDecade) {
            if (perDecade < 1) throw new IllegalArgumentException("learning rates per decade must be at least 1, got " + perDecade);
            return new Grid(datasets, params, bits, logGrid(-5, 0, perDecade), optimizers, seeds, steps, size, channels,
                    toyN, recordEvery);
        }
    }

    static final double INITIAL_SHRINK = 0.6;
    private static final int[] BITS = {2, 3, 4, 6, 8};

    private QuantGradientAnalysis() {
    }

    /** About a minute on two free cores: 6 learning rates (1e-5..1e0), 2 seeds, 30 steps, 1024 values, every step recorded. */
    public static Grid quickGrid() {
        return new Grid(List.of(AnalysisTask.Dataset.values()), List.of(Parameterization.values()), BITS,
                logGrid(-5, 0, 1), List.of(RangeOptimizer.Kind.values()), 2, 30, 1024, 4, 1 << 18, 1);
    }

    /**
     * 11 learning rates (half decades 1e-5..1e0), 3 seeds, 100 steps, 2048 values, 8 channels; steps.csv
     * keeps every 5th step (losses.csv keeps all) so that it stays in the hundreds of megabytes.
     */
    public static Grid fullGrid() {
        return new Grid(List.of(AnalysisTask.Dataset.values()), List.of(Parameterization.values()), BITS,
                logGrid(-5, 0, 2), List.of(RangeOptimizer.Kind.values()), 3, 100, 2048, 8, 1 << 20, 5);
    }

    /** 10^from .. 10^to with {@code perDecade} points per decade. */
    static double[] logGrid(int from, int to, int perDecade) {
        int n = (to - from) * perDecade + 1;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = Double.parseDouble(String.format(Locale.ROOT, "%.3g", Math.pow(10, from + (double) i / perDecade)));
        return out;
    }

    /** All runs of the grid in grid order, on {@code threads} threads. */
    static List<AnalysisRun.Result> runGrid(Grid g, long seed, int threads) throws InterruptedException {
        List<AnalysisRun.Spec> specs = new ArrayList<>();
        for (AnalysisTask.Dataset d : g.datasets())
            for (Parameterization p : g.params())
                for (int b : g.bits())
                    for (RangeOptimizer.Kind k : g.optimizers())
                        for (double lr : g.lrs())
                            for (int s = 0; s < g.seeds(); s++) specs.add(new AnalysisRun.Spec(d, p, b, k, lr, seed + s));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<AnalysisRun.Result>> futures = new ArrayList<>();
            for (AnalysisRun.Spec s : specs) {
                futures.add(pool.submit(() -> AnalysisRun.run(s, g.steps(), g.size(), g.channels(), INITIAL_SHRINK, g.recordEvery())));
            }
            List<AnalysisRun.Result> out = new ArrayList<>();
            for (Future<AnalysisRun.Result> f : futures) out.add(f.get());
            return out;
        } catch (ExecutionException e) {
            throw new IllegalStateException("analysis run failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Command-line entry: {@code analyze [--quick] [--out DIR] [--seed N] [--threads N]}; returns the exit status. */
    public static int run(String[] args) {
        boolean quick = false;
        Path out = Path.of("quant-analysis");
        long seed = 0;
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        List<String> rest = new ArrayList<>(Arrays.asList(args));
        if (!rest.isEmpty() && rest.get(0).equals("analyze")) rest.remove(0);
        try {
            for (int i = 0; i < rest.size(); i++) {
                switch (rest.get(i)) {
                    case "--quick" -> quick = true;
                    case "--out" -> out = Path.of(value(rest, ++i, "--out"));
                    case "--seed" -> seed = Long.parseLong(value(rest, ++i, "--seed"));
                    case "--threads" -> threads = Integer.parseInt(value(rest, ++i, "--threads"));
                    case "--help", "-h" -> {
                        System.out.println(usage());
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown option '" + rest.get(i) + "'");
                }
            }
            if (threads < 1) throw new IllegalArgumentException("--threads = " + threads + " must be at least 1");
        } catch (IllegalArgumentException e) {
            System.err.println("quant analyze: " + e.getMessage() + "\n" + usage());
            return 2;
        }
        try {
            analyze(quick ? quickGrid() : fullGrid(), out, seed, threads, QuantPlots.reportRenderer());
            return 0;
        } catch (IOException | InterruptedException | RuntimeException e) {
            System.err.println("quant analyze failed: " + e);
            return 1;
        }
    }

    private static String value(List<String> args, int i, String option) {
        if (i >= args.size()) throw new IllegalArgumentException(option + " needs a value");
        return args.get(i);
    }

    static String usage() {
        return "usage: quant analyze [--quick] [--out DIR] [--seed N] [--threads N]";
    }

    /** Runs the grid and the toy table, writes every output under {@code out}, prints the summary. */
    public static AnalysisSummary analyze(Grid g, Path out, long seed, int threads, QuantPlots.Renderer renderer)
            throws IOException, InterruptedException {
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        List<ToyTable.Row> toy = ToyTable.compute(seed, g.toyN());
        String toyText = ToyTable.format(toy, g.toyN());
        System.out.println(toyText);
        Files.writeString(out.resolve("toy_table.md"), toyText, StandardCharsets.UTF_8);
        long t1 = System.nanoTime();

        System.out.printf(Locale.ROOT, "grid: %d runs (%d data sets x %d parameterizations x %d bit widths x %d learning rates x %d "
                        + "optimizers x %d seeds), %d steps, %d threads%n", g.runCount(), g.datasets().size(), g.params().size(),
                g.bits().length, g.lrs().length, g.optimizers().size(), g.seeds(), g.steps(), threads);
        List<AnalysisRun.Result> results = runGrid(g, seed, threads);
        long t2 = System.nanoTime();

        AnalysisSummary summary = new AnalysisSummary(results);
        try (BufferedWriter w = Files.newBufferedWriter(out.resolve("steps.csv"), StandardCharsets.UTF_8)) {
            w.write(AnalysisRun.STEP_HEADER);
            w.write('\n');
            for (AnalysisRun.Result r : results) w.write(r.stepRows());
        }
        Files.writeString(out.resolve("losses.csv"), summary.lossesCsv(), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("runs.csv"), summary.runsCsv(), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("cells.csv"), summary.cellsCsv(), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("grad_scaling.csv"), summary.scalingCsv(), StandardCharsets.UTF_8);
        String text = summary.text(g.datasets(), g.params(), g.bits(), g.lrs().length);
        List<java.nio.file.Path> pngs = QuantPlots.writeAll(out.resolve("plots"), summary, g.datasets(), g.params(), g.bits(), g.lrs(),
                renderer);
        long t3 = System.nanoTime();
        String timing = String.format(Locale.ROOT, "%ntimings: toy table %.1f s, grid %.1f s, writing %.1f s; %d plots' data in %s%n",
                (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, pngs.size(), out.resolve("plots"));
        System.out.println(text + timing);
        Files.writeString(out.resolve("summary.txt"), toyText + "\n" + text + timing, StandardCharsets.UTF_8);
        return summary;
    }

    /** Runs {@link #run} and exits with its status (for {@code java -cp ... QuantGradientAnalysis --quick}). */
    public static void main(String[] args) {
        System.exit(run(args));
    }
}
