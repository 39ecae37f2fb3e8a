package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.HeapStorage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.reference.ReferenceBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GEMM throughput of the CPU backend against the reference backend (and the scalar fallback),
 * measured side by side in one process: warm-up, then the median of several timed repetitions.
 * Usage: {@code bench gemm [--quick]} (the CLI passes everything after "bench").
 */
public final class CpuBenchmarks {
    private CpuBenchmarks() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String[] args) {
        List<String> a = Arrays.asList(args);
        if (!a.isEmpty() && !a.contains("gemm")) {
            System.err.println("usage: bench gemm [--quick]");
            return 2;
        }
        boolean quick = a.contains("--quick");
        gemm(quick);
        return 0;
    }

    /** A [rows, cols] float32 matrix, row-major, or its transpose view when {@code transposed}. */
    private static Strided matrix(Backend b, int rows, int cols, boolean transposed, SplittableRandom rng) {
        float[] data = new float[rows * cols];
        for (int i = 0; i < data.length; i++) data[i] = (float) (rng.nextDouble() * 2 - 1) * 0.02f;
        HeapStorage s = HeapStorage.wrap(b, data);
        // transposed: stored as [cols, rows] row-major, viewed as [rows, cols]
        return transposed ? new Strided(s, 0, new int[]{rows, cols}, new int[]{1, rows})
                : new Strided(s, 0, new int[]{rows, cols}, new int[]{cols, 1});
    }

    private static double lastCpuRate;

    /** Process CPU time in ns (all threads), or -1 when the JVM cannot tell. */
    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : -1;
    }

    /**
     * Median wall-clock GFLOP/s of out = A B with A [m, k], B [k, n] in the given layouts; also
     * leaves in {@link #lastCpuRate} the GFLOP per CPU-second of this process over all repetitions
     * (a figure that other processes competing for the cores do not dilute).
     */
    private static double gflops(Backend b, int m, int k, int n, boolean ta, boolean tb, int reps) {
        SplittableRandom rng = new SplittableRandom(42);
        Strided x = matrix(b, m, k, ta, rng), y = matrix(b, k, n, tb, rng);
        Strided out = Strided.contiguous(b.allocate(DType.FLOAT32, m * n), new int[]{m, n});
        double flop = 2.0 * m * n * k;
        int warm = Math.max(1, Math.min(5, (int) (2e10 / flop)));
        for (int i = 0; i < warm; i++) b.matmul(x, y, out);
        double[] t = new double[reps];
        long cpu0 = processCpuNanos();
        for (int r = 0; r < reps; r++) {
            long t0 = System.nanoTime();
            b.matmul(x, y, out);
            t[r] = (System.nanoTime() - t0) * 1e-9;
        }
        long cpuNanos = processCpuNanos() - cpu0;
        // the OS reports CPU time in scheduler ticks: too short a run reads as 0, which is no figure
        lastCpuRate = cpuNanos > 0 ? flop * reps / cpuNanos : Double.NaN;
        Arrays.sort(t);
        return flop / t[reps / 2] * 1e-9;
    }

    private static int reps(double flop) {
        return Math.max(3, Math.min(15, (int) (3e10 / flop)));
    }

    static void gemm(boolean quick) {
        CpuBackend cpu = CpuBackend.create();
        CpuBackend scalar = CpuBackend.create(cpu.threads(), false);
        Backend ref = ReferenceBackend.INSTANCE;
        System.out.println("grad4j bench gemm (float32, C = A B)");
        System.out.println("JDK " + Runtime.version() + " (" + System.getProperty("java.vm.name") + "), "
                + Runtime.getRuntime().availableProcessors() + " processors");
        System.out.println("cpu backend: " + cpu.describe());
        System.out.println("scalar backend (same process): " + scalar.describe());
        int refN = 256;
        double refRate = gflops(ref, refN, refN, refN, false, false, 3);
        System.out.printf(Locale.ROOT, "reference backend (float64 loops) at n = %d: %.3f GFLOP/s; it is too slow for"
                + " larger n, so every ratio below is against this figure%n%n", refN, refRate);

        System.out.println("square, NN (A row-major, B row-major)");
        System.out.printf(Locale.ROOT, "%-6s %12s %12s %12s %12s %14s%n", "n", "cpu GFLOP/s", "per CPU-s", "x reference",
                "scalar", "vector/scalar");
        int[] sizes = quick ? new int[]{256, 1024} : new int[]{256, 512, 1024, 2048};
        for (int n : sizes) {
            double rate = gflops(cpu, n, n, n, false, false, reps(2.0 * n * n * n));
            double perCpu = lastCpuRate;
            String sc = "-", ratio = "-";
            if (n <= 512) {
                double s = gflops(scalar, n, n, n, false, false, 3);
                sc = String.format(Locale.ROOT, "%.2f", s);
                ratio = String.format(Locale.ROOT, "%.1fx", rate / s);
            }
            System.out.printf(Locale.ROOT, "%-6d %12.1f %12.1f %11.0fx %12s %14s%n", n, rate, perCpu, rate / refRate, sc, ratio);
        }

        System.out.println();
        System.out.println("GPT-2 shapes, M = 256 tokens; linear y = x W^T with W [N, K]:");
        System.out.println("  NT = forward x[256,K] W^T;  NN = backward dx = g[256,N] W;  TN = backward dW^T = x^T g");
        System.out.printf(Locale.ROOT, "%-14s %16s %16s %16s   (wall GFLOP/s | GFLOP per CPU-s)%n", "K x N", "NT", "NN", "TN");
        int[][] shapes = quick ? new int[][]{{768, 2304}, {768, 50257}}
                : new int[][]{{768, 768}, {768, 2304}, {768, 3072}, {3072, 768}, {768, 50257}};
        int m = 256;
        for (int[] s : shapes) {
            int k = s[0], n = s[1];
            int reps = reps(2.0 * m * n * k);
            double nt = gflops(cpu, m, k, n, false, true, reps), ntCpu = lastCpuRate;
            double nn = gflops(cpu, m, n, k, false, false, reps), nnCpu = lastCpuRate;
            double tn = gflops(cpu, k, m, n, true, false, reps), tnCpu = lastCpuRate;
            System.out.printf(Locale.ROOT, "%-14s %7.1f | %6.1f %7.1f | %6.1f %7.1f | %6.1f%n", k + " x " + n,
                    nt, ntCpu, nn, nnCpu, tn, tnCpu);
        }
        List<String> notes = new ArrayList<>();
        notes.add("wall figures are medians of timed repetitions after warm-up; the machine may be shared, so compare"
                + " ratios from one run");
        notes.add("per CPU-s = GFLOP per second of CPU time of this process (all its threads) over the repetitions:"
                + " throughput per busy core, not diluted by other processes; times " + cpu.threads()
                + " is the ceiling for this machine's wall figure");
        double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        notes.add(String.format(Locale.ROOT, "system load average at the end: %.1f on %d processors", load,
                Runtime.getRuntime().availableProcessors()));
        notes.forEach(x -> System.out.println("note: " + x));
    }
}
