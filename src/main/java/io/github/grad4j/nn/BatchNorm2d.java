package io.github.grad4j.nn;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * Batch normalization of x [N, C, H, W] per channel, as PyTorch's nn.BatchNorm2d. Parameters
 * "weight" (ones) and "bias" (zeros) when affine; buffers "running_mean" (zeros), "running_var"
 * (ones) and "num_batches_tracked" (INT32 scalar; PyTorch saves int64, which loads as INT32) when
 * tracking running statistics, so state dicts match PyTorch's names.
 *
 * <p>Training normalizes with the batch statistics (biased variance) and updates the running ones
 * with {@code momentum} (running = (1 - momentum) running + momentum batch, the variance unbiased).
 * Evaluation normalizes with the running statistics, or with batch statistics when they are not
 * tracked. PyTorch's cumulative average (momentum = None) is not supported.
 */
public class BatchNorm2d extends Layer {
    private final int channels;
    private final double eps;
    private final double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;

    public BatchNorm2d(int channels, double eps, double momentum, boolean affine, boolean trackRunningStats, DType dtype) {
        Layers.requirePositive("BatchNorm2d", "channels", channels);
        if (!(eps >= 0)) throw new IllegalArgumentException("BatchNorm2d: eps must be >= 0, got " + eps);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("BatchNorm2d: momentum must be in [0, 1], got " + momentum);
        }
        Layers.requireFloat("BatchNorm2d", dtype);
        this.channels = channels;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        if (affine) {
            registerParameter("weight", Init.ones(dtype, channels));
            registerParameter("bias", Init.zeros(dtype, channels));
        }
        if (trackRunningStats) {
            registerBuffer("running_mean", Init.zeros(dtype, channels));
            registerBuffer("running_var", Init.ones(dtype, channels));
            registerBuffer("num_batches_tracked", Tensor.zeros(DType.INT32));
        }
    }

    /** FLOAT32, eps 1e-5, momentum 0.1, affine, tracking running statistics (PyTorch defaults). */
    public BatchNorm2d(int channels) {
        this(channels, 1e-5, 0.1, true, true, DType.FLOAT32);
    }

    /** How many training batches have updated the running statistics (0 when not tracked). */
    public long numBatchesTracked() {
        return trackRunningStats ? (long) buffer("num_batches_tracked").item() : 0;
    }

    @Override
    public Tensor forward(Tensor x) {
        return normalize(x, false, false);
    }

    /**
     * relu(forward(x)) through {@link Functional#batchNormRelu}: the same values and gradients with
     * two fewer passes over the activations each way ({@link Sequential} uses it for a BatchNorm2d
     * followed by a {@link ReLU}).
     */
    public Tensor forwardRelu(Tensor x) {
        return normalize(x, true, false);
    }

    /**
     * 2x2 max pooling of relu(forward(x)) through {@link Functional#batchNormReluMaxPool2x2}: the
     * same values and gradients without full-size arrays between the three ({@link Sequential}
     * uses it for a BatchNorm2d, a {@link ReLU} and a {@link MaxPool2d} of 2, the Conv-4 block).
     */
    public Tensor forwardReluMaxPool2x2(Tensor x) {
        return normalize(x, true, true);
    }

    /**
     * forwardReluMaxPool2x2(conv.forward(x)) through {@link Functional#convBatchNormReluMaxPool2x2}:
     * the same values and gradients, with the convolution's output recomputed where it is needed
     * instead of kept ({@link Sequential} uses it for a block whose convolution costs few
     * multiply-adds per output: {@link Conv2d#recomputedInBlock}).
     */
    public Tensor forwardConvolvedReluMaxPool2x2(Conv2d conv, Tensor x) {
        conv.checkInput(x);
        if (conv.outChannels() != channels) {
            throw new IllegalArgumentException(this + ": after " + conv + ", which gives " + conv.outChannels() + " channels");
        }
        return normalize(conv, x, true, true);
    }

    private Tensor normalize(Tensor x, boolean relu, boolean pool) {
        if (x.dim() != 4 || x.size(1) != channels) {
            throw new IllegalArgumentException("BatchNorm2d(" + channels + "): input " + Shape.str(x.shape())
                    + " should be [N, " + channels + ", H, W]");
        }
        return normalize(null, x, relu, pool);
    }

    /** conv (null: none) then batch norm, then ReLU and pooling as asked; updates num_batches_tracked in training. */
    private Tensor normalize(Conv2d conv, Tensor x, boolean relu, boolean pool) {
        Tensor runningMean = trackRunningStats ? buffer("running_mean") : null;
        Tensor runningVar = trackRunningStats ? buffer("running_var") : null;
        Tensor weight = affine ? param("weight") : null, bias = affine ? param("bias") : null;
        Tensor y = conv != null
                ? Functional.convBatchNormReluMaxPool2x2(x, conv.weight(), conv.bias(), conv.padding(), runningMean, runningVar,
                        weight, bias, isTraining(), momentum, eps)
                : pool ? Functional.batchNormReluMaxPool2x2(x, runningMean, runningVar, weight, bias, isTraining(), momentum, eps)
                : relu ? Functional.batchNormRelu(x, runningMean, runningVar, weight, bias, isTraining(), momentum, eps)
                : Functional.batchNorm(x, runningMean, runningVar, weight, bias, isTraining(), momentum, eps);
        if (isTraining() && trackRunningStats) {
            Tensor count = buffer("num_batches_tracked");
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                count.assign(new Tensor(count.backend().upload(new int[]{(int) count.item() + 1}), new int[0]));
            }
        }
        return y;
    }

    @Override
    public String toString() {
        return "BatchNorm2d(" + channels + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + affine
                + ", trackRunningStats=" + trackRunningStats + ")";
    }
}
