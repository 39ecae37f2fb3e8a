package io.github.grad4j.nn;

import io.github.grad4j.ops.Convolution;
import io.github.grad4j.tensor.Tensor;

/** Max pooling of x [N, C, H, W] with a square window (padding never wins; floor output size). */
public class MaxPool2d extends Layer {
    private final int kernel;
    private final int stride;
    private final int padding;

    public MaxPool2d(int kernel, int stride, int padding) {
        Layers.requirePositive("MaxPool2d", "kernel", kernel);
        Layers.requirePositive("MaxPool2d", "stride", stride);
        if (padding < 0) throw new IllegalArgumentException("MaxPool2d: padding must be >= 0, got " + padding);
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    /** Stride equal to the kernel and no padding (PyTorch's default). */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    /** Whether this is the 2x2, stride 2, unpadded pooling (the one fused after batch norm and ReLU). */
    boolean isTwoByTwo() {
        return kernel == 2 && stride == 2 && padding == 0;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Convolution.maxPool2d(x, kernel, stride, padding);
    }

    @Override
    public String toString() {
        return "MaxPool2d(kernel=" + kernel + ", stride=" + stride + ", padding=" + padding + ")";
    }
}
