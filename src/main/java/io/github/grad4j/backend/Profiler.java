package io.github.grad4j.backend;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Opt-in timing of kernel dispatch: backends that support it (the cpu backend) call
 * {@link #start()} and {@link #stop} around each kernel they run; the times are summed per
 * name. Off by default, when each call costs one volatile read. Only the outermost kernel of a
 * nested call is timed (a fused kernel that falls back to simpler kernels counts once), and only
 * on the thread that enabled profiling.
 */
public final class Profiler {
    private static volatile Thread owner;
    private static int depth;
    private static final Map<String, long[]> TOTALS = new LinkedHashMap<>();

    private Profiler() {
    }

    /** Starts collecting on the calling thread (clears earlier totals). */
    public static synchronized void enable() {
        TOTALS.clear();
        depth = 0;
        owner = Thread.currentThread();
    }

    /** Stops collecting; the totals stay readable. */
    public static synchronized void disable() {
        owner = null;
    }

    /** Clears the totals, keeping the profiler on or off. */
    public static synchronized void reset() {
        TOTALS.clear();
    }

    /** A start stamp, or -1 when not profiling this call. */
    public static long start() {
        if (owner != Thread.currentThread()) return -1;
        return depth++ == 0 ? System.nanoTime() : -2;
    }

    /** Adds the time since {@code start} to {@code name}'s total. */
    public static void stop(String name, long start) {
        if (start == -1) return;
        depth--;
        if (start < 0) return;
        long dt = System.nanoTime() - start;
        synchronized (Profiler.class) {
            long[] t = TOTALS.computeIfAbsent(name, k -> new long[2]);
            t[0] += dt;
            t[1]++;
        }
    }

    /** One entry of the totals. */
    public record Entry(String name, long nanos, long calls) {
    }

    /** The totals, largest first. */
    public static synchronized List<Entry> totals() {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : TOTALS.entrySet()) out.add(new Entry(e.getKey(), e.getValue()[0], e.getValue()[1]));
        out.sort((a, b) -> Long.compare(b.nanos, a.nanos));
        return out;
    }
}
