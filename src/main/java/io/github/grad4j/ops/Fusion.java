package io.github.grad4j.ops;

/**
 * Whether ops with a fused kernel (softmax, logSoftmax, layerNorm, crossEntropy, attention, GELU's
 * backward) use it on this thread; on by default. {@code try (var s = Fusion.disabled()) {...}}
 * runs the same code through the composite ops instead: benchmarks use it for their baseline,
 * tests to compare the two paths. Both compute the same function and gradient (up to rounding).
 */
public final class Fusion {
    // [0]: fused kernels at all; [1]: whole convolution blocks (see convolutionBlocks)
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[]{true, true});

    private Fusion() {
    }

    public static boolean enabled() {
        return ENABLED.get()[0];
    }

    /**
     * Whether a Sequential runs a convolution with few multiply-adds per output, its batch norm,
     * ReLU and 2x2 pooling as one op ({@link Functional#convBatchNormReluMaxPool2x2}, the
     * convolution recomputed instead of kept); on whenever fusion is.
     */
    public static boolean convolutionBlocks() {
        boolean[] flag = ENABLED.get();
        return flag[0] && flag[1];
    }

    /**
     * A scope in which convolution blocks run as their separate ops (the other fused kernels stay
     * on): the baseline of the block in benchmarks.
     */
    public static Scope withoutConvolutionBlocks() {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[1];
        flag[1] = false;
        return () -> flag[1] = previous;
    }

    /** A scope in which ops use their composite form; closing it restores the previous setting. */
    public static Scope disabled() {
        boolean[] flag = ENABLED.get();
        boolean previous = flag[0];
        flag[0] = false;
        return () -> flag[0] = previous;
    }

    /** A scope that changes nothing (the default settings): a comparison's control arm. */
    public static Scope enabledScope() {
        return () -> { };
    }

    /** An AutoCloseable that does not throw. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
