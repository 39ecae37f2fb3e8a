package io.github.grad4j.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The one thread pool of a CPU backend. Work is split into a fixed list of tasks chosen by the
 * caller (never by how many threads happen to be free), so which elements a task computes and in
 * which order does not depend on scheduling: results are identical from run to run and across
 * thread counts, as long as the kernels partition outputs (never the reduction over one output).
 */
final class Parallel {
    private final ForkJoinPool pool;
    private final int threads;

    Parallel(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : new ForkJoinPool(this.threads, p -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("grad4j-cpu-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    int threads() {
        return threads;
    }

    /** Runs body(0) .. body(tasks - 1), in parallel when the pool has more than one thread. */
    void forEach(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || pool == null) {
            for (int t = 0; t < tasks; t++) body.accept(t);
            return;
        }
        Range root = new Range(body, 0, tasks);
        if (insidePool()) root.compute();
        else pool.invoke(root);
    }

    /**
     * Splits [0, n) into contiguous chunks of at least {@code grain} elements (at most a few per
     * thread) and runs body(start, end) on each.
     */
    void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int chunks = (int) Math.min((long) threads * 4, Math.max(1, n / Math.max(1, grain)));
        if (chunks <= 1) {
            body.run(0, n);
            return;
        }
        int[] bounds = new int[chunks + 1];
        for (int c = 0; c <= chunks; c++) bounds[c] = (int) ((long) n * c / chunks);
        forEach(chunks, c -> body.run(bounds[c], bounds[c + 1]));
    }

    @FunctionalInterface
    interface RangeBody {
        void run(int start, int end);
    }

    private boolean insidePool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int lo, hi;

        Range(IntConsumer body, int lo, int hi) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
        }

        @Override
        protected void compute() {
            if (hi - lo == 1) {
                body.accept(lo);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(body, lo, mid), new Range(body, mid, hi));
        }
    }
}
