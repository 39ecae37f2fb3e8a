package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.Arrays;

/**
 * Neural-network functions: softmax family, losses, normalization, convolution, pooling, dropout.
 * The ops used inside meta-learning inner loops are also gradgradchecked.
 */
class FunctionalGradProperties {

    @Provide
    Arbitrary<int[]> atLeastRank1() {
        return Shapes.shapes(1, 3, 120);
    }

    @Provide
    Arbitrary<Layout> noRepeats() {
        return Arbitraries.of(Layout.WITHOUT_REPEATS);
    }

    private static int dim(Rng r) {
        return Shapes.DIMS[r.nextInt(Shapes.DIMS.length)];
    }

    @Property(tries = 40)
    void softmax(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("softmax", seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length);
        c.verifyTwice(x -> x[0].softmax(axis));
    }

    @Property(tries = 40)
    void logSoftmax(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        OpCase c = OpCase.of("logSoftmax", seed).input(s, l, Values.normal());
        int axis = c.rng().nextInt(s.length) - s.length;
        c.verifyTwice(x -> x[0].logSoftmax(axis));
    }

    /** Class-index cross-entropy, with some targets set to the ignore index, reduced by mean, sum or not at all. */
    @Property(tries = 40)
    void crossEntropy(@ForAll Layout l, @ForAll Functional.Reduction reduction, @ForAll boolean withIgnored,
                      @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = dim(r), classes = 1 + dim(r);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = withIgnored && i > 0 && r.nextInt(3) == 0 ? -100 : r.nextInt(classes);
        Tensor targets = Tensor.ofInts(t, n);
        OpCase.of("crossEntropy " + reduction + " targets " + Arrays.toString(t) + " of " + classes, seed)
                .input(new int[]{n, classes}, l, Values.normal())
                .verifyTwice(x -> Functional.crossEntropy(x[0], targets, -100, reduction));
    }

    @Property(tries = 40)
    void mseLoss(@ForAll("atLeastRank1") int[] s, @ForAll Layout lp, @ForAll Layout lt, @ForAll long seed) {
        OpCase.of("mseLoss", seed).input(s, lp, Values.normal()).input(s, lt, Values.normal())
                .verify(x -> Functional.mseLoss(x[0], x[1]));
    }

    /**
     * Not on expanded inputs: a normalized group of repeated values has zero variance, and the
     * output is rounding noise amplified by 1/sqrt(eps), in either dtype.
     */
    @Property(tries = 40)
    void layerNorm(@ForAll("atLeastRank1") int[] s, @ForAll("noRepeats") Layout l, @ForAll boolean affine, @ForAll long seed) {
        OpCase c = OpCase.of("layerNorm affine=" + affine, seed).input(s, l, Values.normal());
        int k = 1 + c.rng().nextInt(Math.min(2, s.length));
        int[] normalized = Arrays.copyOfRange(s, s.length - k, s.length);
        // a single normalized element has zero variance: the output is 0 and the check degenerates;
        // with two, the outputs are +-1 and the gradient is rounding noise amplified by 1/sqrt(var),
        // which made the float32-vs-float64 comparison flaky (seed 21, [5, 2] on JDK 25)
        net.jqwik.api.Assume.that(io.github.grad4j.tensor.Shape.numel(normalized) > 2);
        if (affine) c.input(normalized, Values.normal()).input(normalized, Values.normal());
        c.verify(x -> Functional.layerNorm(x[0], normalized, affine ? x[1] : null, affine ? x[2] : null, 1e-5));
    }

    private static int[] batchNormShape(Rng r) {
        int n = 1 + r.nextInt(3), ch = dim(r);
        int[] s = r.nextInt(2) == 0 ? new int[]{n, ch} : new int[]{n, ch, 1 + r.nextInt(3), 1 + r.nextInt(3)};
        // training needs two values per channel; with exactly two, the normalized outputs are +-1 and the gradient is
        // pure rounding noise amplified by 1/sqrt(var), which made the float32-vs-float64 comparison flaky (seed 4713)
        if (io.github.grad4j.tensor.Shape.numel(s) / ch < 3) s[0] = 3;
        return s;
    }

    /**
     * Training mode normalizes with batch statistics (running statistics are updated, not read).
     * Not on expanded inputs, for the zero-variance reason given at layerNorm.
     */
    @Property(tries = 30)
    void batchNormTraining(@ForAll("noRepeats") Layout l, @ForAll boolean affine, @ForAll long seed) {
        int[] s = batchNormShape(new Rng(seed));
        int ch = s[1];
        OpCase c = OpCase.of("batchNorm training " + Arrays.toString(s), seed).input(s, l, Values.normal());
        if (affine) c.input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.normal());
        c.verifyTwice(x -> {
            Tensor runningMean = Tensor.zeros(x[0].dtype(), ch);
            Tensor runningVar = Tensor.ones(x[0].dtype(), ch);
            return Functional.batchNorm(x[0], runningMean, runningVar, affine ? x[1] : null, affine ? x[2] : null,
                    true, 0.1, 1e-5);
        });
    }

    /** Batch norm followed by ReLU as one op (batch statistics): gradients and gradients of gradients. */
    @Property(tries = 30)
    void batchNormRelu(@ForAll("noRepeats") Layout l, @ForAll boolean affine, @ForAll long seed) {
        int[] s = batchNormShape(new Rng(seed));
        int ch = s[1];
        OpCase c = OpCase.of("batchNormRelu " + Arrays.toString(s), seed).input(s, l, Values.normal());
        if (affine) c.input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.normal());
        c.verifyTwice(x -> Functional.batchNormRelu(x[0], null, null, affine ? x[1] : null, affine ? x[2] : null,
                true, 0.1, 1e-5));
    }

    /** Batch norm, ReLU and 2x2 max pooling as one op (the Conv-4 block): gradients and gradients of gradients. */
    @Property(tries = 30)
    void batchNormReluMaxPool2x2(@ForAll boolean affine, @ForAll long seed) {
        Rng r = new Rng(seed);
        int[] s = {1 + r.nextInt(3), 1 + r.nextInt(3), 2 + r.nextInt(4), 2 + r.nextInt(4)};
        int ch = s[1];
        OpCase c = OpCase.of("batchNormReluMaxPool2x2 " + Arrays.toString(s), seed).input(s, Values.normal());
        if (affine) c.input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.normal());
        c.verifyTwice(x -> Functional.batchNormReluMaxPool2x2(x[0], null, null, affine ? x[1] : null, affine ? x[2] : null,
                true, 0.1, 1e-5));
    }

    /**
     * A whole convolution block as one op (convolution, batch norm with batch statistics, ReLU, 2x2
     * max pooling; the backward recomputes the convolution): gradients and gradients of gradients
     * with respect to the image, the convolution's weight and both batch norm parameters, over
     * kernels 1-3, padding 0-2 and odd sizes (the last row or column not pooled). The convolution's
     * bias is a constant here: batch norm removes it, so its gradient is 0 and float32 gives only
     * rounding noise (FusedOpsTest gradchecks it in float64 and compares it with the ops in turn).
     */
    @Property(tries = 30)
    void convBatchNormReluMaxPool2x2(@ForAll("noRepeats") Layout lx, @ForAll boolean withBias, @ForAll boolean affine, @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = 1 + r.nextInt(3), k = 1 + r.nextInt(3), pad = r.nextInt(3), cout = 1 + r.nextInt(3);
        // a 1x1 kernel over one channel is only a scale, which batch norm removes: its gradient would be rounding noise
        int cin = k == 1 ? 2 : 1 + r.nextInt(2);
        int h = Math.max(2 + k - 1 - 2 * pad, 2 + r.nextInt(4)), w = Math.max(2 + k - 1 - 2 * pad, 2 + r.nextInt(4));
        double[] bias = Values.normal().sample(r, cout);
        OpCase c = OpCase.of("convBatchNormReluMaxPool2x2 x[" + n + "," + cin + "," + h + "," + w + "] k" + k + " out " + cout
                        + " pad " + pad + " bias " + withBias + " affine " + affine, seed)
                .input(new int[]{n, cin, h, w}, lx, Values.normal())
                .input(new int[]{cout, cin, k, k}, Values.normal());
        if (affine) c.input(new int[]{cout}, Values.normal()).input(new int[]{cout}, Values.normal());
        c.verifyTwice(x -> Functional.convBatchNormReluMaxPool2x2(x[0], x[1],
                withBias ? Tensor.of(bias, x[0].dtype(), cout).to(x[0].backend()) : null, pad, null, null,
                affine ? x[2] : null, affine ? x[3] : null, true, 0.1, 1e-5));
    }

    private static int[] activationShape(Rng r) {
        int n = 1 + r.nextInt(3), ch = dim(r);
        return switch (r.nextInt(3)) {
            case 0 -> new int[]{n, ch};
            case 1 -> new int[]{n, ch, dim(r)};
            default -> new int[]{n, ch, 1 + r.nextInt(3), 1 + r.nextInt(3)};
        };
    }

    /** Per-channel sums of u (or of u v): batch norm's differentiable backward is built from these. */
    @Property(tries = 30)
    void channelSums(@ForAll Layout lu, @ForAll Layout lv, @ForAll boolean product, @ForAll long seed) {
        int[] s = activationShape(new Rng(seed));
        OpCase c = OpCase.of("channelSums " + Arrays.toString(s) + " product " + product, seed).input(s, lu, Values.normal());
        if (product) c.input(s, lv, Values.normal());
        c.verifyTwice(x -> ChannelOps.channelSums(x[0], product ? x[1] : null));
    }

    /** a u + b v + shift per channel, with each optional part present or absent. */
    @Property(tries = 30)
    void channelCombine(@ForAll Layout lu, @ForAll Layout lv, @ForAll boolean scaled, @ForAll boolean second,
                        @ForAll boolean shifted, @ForAll long seed) {
        int[] s = activationShape(new Rng(seed));
        int ch = s[1];
        OpCase c = OpCase.of("channelCombine " + Arrays.toString(s) + " a " + scaled + " v " + second + " shift " + shifted, seed)
                .input(s, lu, Values.normal()).input(new int[]{ch}, Values.normal())
                .input(s, lv, Values.normal()).input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.normal());
        c.verifyTwice(x -> ChannelOps.channelCombine(x[0], scaled ? x[1] : null, second ? x[2] : null,
                second ? x[3] : null, shifted ? x[4] : null));
    }

    /** Evaluation mode normalizes with the running statistics, which are differentiable inputs here. */
    @Property(tries = 30)
    void batchNormEval(@ForAll Layout l, @ForAll long seed) {
        int[] s = batchNormShape(new Rng(seed));
        int ch = s[1];
        OpCase.of("batchNorm eval " + Arrays.toString(s), seed).input(s, l, Values.normal())
                .input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.uniform(0.5, 2))
                .input(new int[]{ch}, Values.normal()).input(new int[]{ch}, Values.normal())
                .verifyTwice(x -> Functional.batchNorm(x[0], x[1], x[2], x[3], x[4], false, 0.1, 1e-5));
    }

    /** Odd image sizes, strides 1 and 2, padding 0 and 1, with and without bias. */
    @Property(tries = 25)
    void conv2d(@ForAll Layout lx, @ForAll Layout lw, @ForAll boolean withBias, @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = 1 + r.nextInt(2), cin = 1 + r.nextInt(2), cout = 1 + r.nextInt(2);
        int k = 1 + r.nextInt(3), stride = 1 + r.nextInt(2), pad = r.nextInt(2);
        int h = new int[]{3, 4, 5}[r.nextInt(3)], w = new int[]{3, 5}[r.nextInt(2)];
        OpCase c = OpCase.of("conv2d x[" + n + "," + cin + "," + h + "," + w + "] k" + k + " out " + cout
                        + " stride " + stride + " pad " + pad + " bias " + withBias, seed)
                .input(new int[]{n, cin, h, w}, lx, Values.normal())
                .input(new int[]{cout, cin, k, k}, lw, Values.normal());
        if (withBias) c.input(new int[]{cout}, Values.normal());
        c.verifyTwice(x -> x[0].conv2d(x[1], withBias ? x[2] : null, stride, pad));
    }

    /**
     * conv2d's two backward ops as functions of both their arguments (conv2d's own checks reach
     * them only with respect to x and the weight, never the incoming gradient), twice: their
     * backward rules are the three convolution ops again.
     */
    @Property(tries = 20)
    void conv2dBackwardOps(@ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = 1 + r.nextInt(3), cin = 1 + r.nextInt(2), cout = 1 + r.nextInt(2);
        int kh = 1 + r.nextInt(3), kw = 1 + r.nextInt(3), stride = 1 + r.nextInt(2), pad = r.nextInt(2);
        int h = new int[]{3, 4, 5}[r.nextInt(3)], w = new int[]{3, 5}[r.nextInt(2)];
        int oh = Convolution.outSize("test", h, kh, stride, pad), ow = Convolution.outSize("test", w, kw, stride, pad);
        int[] xShape = {n, cin, h, w}, wShape = {cout, cin, kh, kw}, gShape = {n, cout, oh, ow};
        String shapes = " x" + Arrays.toString(xShape) + " w" + Arrays.toString(wShape) + " stride " + stride + " pad " + pad;
        OpCase.of("conv2dBackwardInput" + shapes, seed)
                .input(gShape, la, Values.normal()).input(wShape, lb, Values.normal())
                .verifyTwice(x -> Convolution.convolveBackwardInput(x[0], x[1], xShape, stride, pad));
        OpCase.of("conv2dBackwardWeight" + shapes, seed)
                .input(xShape, la, Values.normal()).input(gShape, lb, Values.normal())
                .verifyTwice(x -> Convolution.convolveBackwardWeight(x[0], x[1], wShape, stride, pad));
    }

    @Property(tries = 30)
    void maxPool2d(@ForAll("noRepeats") Layout l, @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = 1 + r.nextInt(2), ch = 1 + r.nextInt(2), h = new int[]{3, 4, 5, 7}[r.nextInt(4)], w = new int[]{3, 5}[r.nextInt(2)];
        int k = 2 + r.nextInt(2), stride = 1 + r.nextInt(2), pad = r.nextInt(2);
        OpCase.of("maxPool2d [" + n + "," + ch + "," + h + "," + w + "] k" + k + " stride " + stride + " pad " + pad, seed)
                .input(new int[]{n, ch, h, w}, l, Values.distinct())
                .verifyTwice(x -> Convolution.maxPool2d(x[0], k, stride, pad));
    }

    /** The mask is drawn from a fresh generator with the same seed on every evaluation, so it is fixed. */
    @Property(tries = 40)
    void dropout(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        double p = new double[]{0.2, 0.5}[(int) (seed & 1)];
        OpCase.of("dropout p=" + p, seed).input(s, l, Values.normal())
                .verify(x -> Functional.dropout(x[0], p, true, new Rng(seed)));
    }

    /** The running statistics move towards the batch mean and the unbiased batch variance (plain loops as oracle). */
    @Property(tries = 30)
    void batchNormUpdatesRunningStatistics(@ForAll long seed) {
        Rng r = new Rng(seed);
        int[] s = batchNormShape(r);
        int n = s[0], ch = s[1], plane = io.github.grad4j.tensor.Shape.numel(s) / (n * ch);
        Tensor x = Tensor.randn(r, 1, DType.FLOAT64, s);
        Tensor runningMean = Tensor.randn(r, 1, DType.FLOAT64, ch);
        Tensor runningVar = Tensor.uniform(r, 0.5, 2, DType.FLOAT64, ch);
        double[] m0 = runningMean.toDoubleArray(), v0 = runningVar.toDoubleArray(), xv = x.toDoubleArray();
        Functional.batchNorm(x, runningMean, runningVar, null, null, true, 0.1, 1e-5);
        for (int c = 0; c < ch; c++) {
            double sum = 0, sq = 0;
            int count = n * plane;
            for (int i = 0; i < n; i++) for (int p = 0; p < plane; p++) sum += xv[(i * ch + c) * plane + p];
            double mean = sum / count;
            for (int i = 0; i < n; i++) for (int p = 0; p < plane; p++) sq += Math.pow(xv[(i * ch + c) * plane + p] - mean, 2);
            org.junit.jupiter.api.Assertions.assertEquals(0.9 * m0[c] + 0.1 * mean, runningMean.get(c), 1e-12);
            org.junit.jupiter.api.Assertions.assertEquals(0.9 * v0[c] + 0.1 * sq / (count - 1), runningVar.get(c), 1e-12);
        }
    }
}
