package io.github.grad4j.bench;

import io.github.grad4j.backend.Profiler;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;
import java.util.List;

/** Timing helpers shared by the model benchmarks: wall and process CPU time, peak heap, profiles. */
public final class Measure {
    private Measure() {
    }

    /** Wall and process-CPU seconds of one run. */
    record Time(double wall, double cpu) {
    }

    static double processCpuSeconds() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean s) return s.getProcessCpuTime() / 1e9;
        return Double.NaN;
    }

    static Time time(Runnable r) {
        double c0 = processCpuSeconds();
        long t0 = System.nanoTime();
        r.run();
        return new Time((System.nanoTime() - t0) / 1e9, processCpuSeconds() - c0);
    }

    /** Median wall time and the CPU time of that same run. */
    static Time median(List<Time> times) {
        Time[] t = times.toArray(new Time[0]);
        Arrays.sort(t, (a, b) -> Double.compare(a.wall, b.wall));
        return t[t.length / 2];
    }

    static void resetPeakHeap() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
        }
    }

    /** Sum over heap pools of their peak usage since the last reset (MiB; an upper bound of the true peak). */
    static double peakHeapMiB() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) sum += p.getPeakUsage().getUsed();
        }
        return sum / (1024.0 * 1024.0);
    }

    /** The profiler's totals as table rows, divided by {@code runs}, with shares of {@code totalSeconds}. */
    public static String profileTable(int runs, double totalSeconds, int maxRows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("  %-40s %10s %8s %8s%n", "kernel", "ms/step", "calls", "share"));
        List<Profiler.Entry> entries = Profiler.totals();
        double listed = 0;
        int shown = 0;
        for (Profiler.Entry e : entries) {
            double ms = e.nanos() / 1e6 / runs;
            listed += ms;
            if (shown++ < maxRows) {
                sb.append(String.format("  %-40s %10.1f %8d %7.1f%%%n", e.name(), ms, e.calls() / runs, 100 * ms / (1000 * totalSeconds)));
            }
        }
        double rest = 1000 * totalSeconds - listed;
        sb.append(String.format("  %-40s %10.1f %8s %7.1f%%%n", "(outside kernels)", rest, "", 100 * rest / (1000 * totalSeconds)));
        return sb.toString();
    }

    static String jvmLine() {
        return "JDK " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), "
                + Runtime.getRuntime().availableProcessors() + " CPUs, max heap "
                + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB";
    }
}
