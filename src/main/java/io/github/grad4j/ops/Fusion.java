package io.github.grad4j.ops;

/**
 * Whether ops with a fused kernel (softmax, logSoftmax, layerNorm, crossEntropy, attention, GELU's
 * backward) use it on this thread; on by default. {@code try (var s = Fusion.disabled()) {...}}
 * runs the same code through the composite ops instead: benchmarks use it for their baseline,
 * tests to compare the two paths. Both compute the same function and gradient (up to rounding).
 */
public final class Fusion {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[]{true});

    private Fusion() {
    }

    public static boolean enabled() {
        return ENABLED.get()[0];
    }

    /** A scope in which ops use their composite form; closing it restores the previous setting. */
    public static Scope disabled() {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[0];
        flag[0] = false;
        return () -> flag[0] = previous;
    }

    /** An AutoCloseable that does not throw. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
