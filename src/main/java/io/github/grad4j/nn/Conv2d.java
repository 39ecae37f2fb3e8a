package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Convolution;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * 2-D convolution (cross-correlation) with a square kernel, square stride and zero padding:
 * "weight" [out, in, k, k] and "bias" [out], PyTorch's names and default initialization
 * (W and b uniform in +-1/sqrt(in * k * k), weight drawn first).
 */
public class Conv2d extends Layer {
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int stride;
    private final int padding;

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias, Rng rng, DType dtype) {
        Layers.requirePositive("Conv2d", "inChannels", inChannels);
        Layers.requirePositive("Conv2d", "outChannels", outChannels);
        Layers.requirePositive("Conv2d", "kernel", kernel);
        Layers.requirePositive("Conv2d", "stride", stride);
        if (padding < 0) throw new IllegalArgumentException("Conv2d: padding must be >= 0, got " + padding);
        Layers.requireFloat("Conv2d", dtype);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        registerParameter("weight", Init.kaimingUniform(rng, Math.sqrt(5), dtype, outChannels, inChannels, kernel, kernel));
        if (bias) registerParameter("bias", Init.defaultBias(rng, inChannels * kernel * kernel, dtype, outChannels));
    }

    /** A FLOAT32 convolution with a bias. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, Rng rng) {
        this(inChannels, outChannels, kernel, stride, padding, true, rng, DType.FLOAT32);
    }

    public boolean hasBias() {
        return namedParameters().containsKey("bias");
    }

    /** x [N, in, H, W] to [N, out, OH, OW]. */
    @Override
    public Tensor forward(Tensor x) {
        checkInput(x);
        return Convolution.conv2d(x, param("weight"), bias(), stride, padding);
    }

    /**
     * The most multiply-adds per output (input channels times kernel area) for which a
     * {@link Sequential} runs this convolution with the batch norm, ReLU and 2x2 max pooling after
     * it as one op ({@link BatchNorm2d#forwardConvolvedReluMaxPool2x2}), which recomputes the
     * convolution instead of keeping its output: 9 (one grey channel, 3x3), where the cpu backend
     * measured the first Conv-4 block's forward 1.45x and backward 1.15x faster that way, and the
     * whole episode 1.1-1.16x (docs/performance.md). With three channels (27) the recomputation
     * cost more than the memory traffic it saves (1.7x and 3x slower).
     */
    static final int RECOMPUTED_WINDOW_MAX = 9;

    /** Whether a block starting with this convolution recomputes it (see {@link #RECOMPUTED_WINDOW_MAX}): stride 1 and a small window. */
    boolean recomputedInBlock() {
        return stride == 1 && inChannels * kernel * kernel <= RECOMPUTED_WINDOW_MAX;
    }

    void checkInput(Tensor x) {
        if (x.dim() != 4 || x.size(1) != inChannels) {
            throw new IllegalArgumentException(this + ": input " + Shape.str(x.shape()) + " should be [N, " + inChannels
                    + ", H, W]");
        }
    }

    int outChannels() {
        return outChannels;
    }

    int padding() {
        return padding;
    }

    /** The "weight" parameter as this call sees it (an adapted weight inside functionalCall). */
    Tensor weight() {
        return param("weight");
    }

    /** The "bias" parameter as this call sees it, or null without a bias. */
    Tensor bias() {
        return hasBias() ? param("bias") : null;
    }

    @Override
    public String toString() {
        return "Conv2d(" + inChannels + ", " + outChannels + ", kernel=" + kernel + ", stride=" + stride
                + ", padding=" + padding + ", bias=" + hasBias() + ")";
    }
}
