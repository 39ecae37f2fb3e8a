package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.ConvShape;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.UnaryOp;

/**
 * A stride-1 convolution followed by batch norm with batch statistics, ReLU and 2x2 max pooling
 * ({@code Backend#convBatchNormReluPool2x2}), with the convolution recomputed image by image
 * wherever its output is needed instead of written to memory.
 *
 * <p>Why: in the first block of an image network the convolution costs few multiply-adds per
 * output (C kh kw = 9 for one grey channel) but its output is four times the pooled output: 20 MB
 * for 100 28x28 images and 64 channels, written once and read twice by the batch norm block, and
 * its gradient written and read once more, all at memory speed, besides allocating (zeroing) both.
 * Recomputed, each channel's plane is made and used in L1.
 *
 * <p>Each image's planes are computed straight from its zero-padded planes
 * ({@link Kernels#convolvePlane}; a one-channel 3x3 window has a kernel that loads each input row
 * once for three output rows) when the rows are at least a vector wide, else by unfold and GEMM
 * for all channels at once (as ConvKernels computes an image it takes alone). The weight gradient
 * is likewise taken plane by plane from the padded image ({@link Kernels#convolvePlaneWeights}),
 * or from the image's unfolded columns.
 *
 * <p>Forward: two passes over the images (each segment's sum and squares, see
 * {@link FusedKernels#combineStatistics}; then normalize, rectify and pool). Backward without the
 * image's gradient (a first layer): one pass, batch norm's sums and per-tap sums from which the
 * convolution's gradients follow once batch norm's coefficients are known; with it: two (batch
 * norm's sums, then its input gradient, consumed in cache by the convolution's weight, bias and
 * input gradients). Measured on the first Conv-4 block (100 images, 64 channels, 2 threads):
 * forward 1.45-1.5x and backward 1.1-1.2x faster than the two ops (docs/performance.md).
 *
 * <p>Bits: both ways of convolving give gemmTile's fused multiply-adds in tap order, then the
 * bias; per image and channel the sums are the kernels' float lane sums, combined per channel in
 * image order as {@link FusedKernels#batchNormReluPool} does, and the planes are normalized,
 * rectified and pooled by the same loops, so the pooled values, positions and statistics, the input
 * gradient and batch norm's parameter gradients equal those of the cpu backend's conv2d and
 * batchNormReluPool2x2 run one after the other wherever that conv2d multiplies unfolded columns
 * (tested). The convolution's weight and bias gradients are summed plane by plane and image by
 * image (ConvKernels sums chunks of images), or from the one pass's sums, so they agree with the
 * unfused ones to rounding. Tasks own images and every sum runs in a fixed order, so no result
 * depends on the thread count.
 */
final class ConvolutionBlock {
    /**
     * The most multiply-adds per output (C kh kw) for which recomputing is used: one channel, 3x3.
     * With 27 (3 channels, 3x3) the block measured 1.7x slower forward and 3x slower backward than
     * the two ops, so the backend runs those through the composite default.
     */
    static final int MAX_WINDOW = 9;

    /** Whether a block of this shape recomputes its convolution here (else: the composite default). */
    static boolean recomputes(ConvShape s) {
        return s.k() <= MAX_WINDOW;
    }

    private final ConvKernels convolutions;
    private final FusedKernels fused;
    private final Kernels k;
    private final Parallel parallel;
    // per-thread scratch: an image's padded planes, one channel's convolution, an image's [O, L]
    // (convolution or gradient), a working plane, a gradient plane, a pooled plane
    private final ThreadLocal<float[]> paddedPlanes = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> centeredPlanes = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> ones = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> convolved = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> outputs = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> planes = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> gradientPlanes = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> pooled = ThreadLocal.withInitial(() -> new float[0]);

    ConvolutionBlock(ConvKernels convolutions, FusedKernels fused, Kernels kernels, Parallel parallel) {
        this.convolutions = convolutions;
        this.fused = fused;
        this.k = kernels;
        this.parallel = parallel;
    }

    /**
     * The block's convolution in one call: its operands and, where the planes are computed from the
     * padded image (output rows at least a vector wide), the padded layout and the windows' offsets,
     * worked out once for all images and passes.
     */
    private final class Convolution {
        final float[] x, w, bias;
        final int xOff, wOff, bOff;
        final ConvShape s;
        final int ph, pw;
        final boolean direct;
        final ShiftedConvolution.Padding padding;
        final int[] offsets;

        Convolution(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, ConvShape s, int ph, int pw) {
            this.x = x;
            this.xOff = xOff;
            this.w = w;
            this.wOff = wOff;
            this.bias = bias;
            this.bOff = bOff;
            this.s = s;
            this.ph = ph;
            this.pw = pw;
            this.direct = s.ow() >= k.lanes();
            this.padding = direct ? new ShiftedConvolution.Padding(s.c(), s.h(), s.w(), ph, pw, s.kh(), s.kw()) : null;
            this.offsets = direct ? padding.offsets() : null;
        }

        /** Image i's convolution for this pass, in this thread's buffers. */
        ImageConvolution image(int i) {
            return new ImageConvolution(this, i);
        }
    }

    /**
     * One image's convolution, recomputed channel by channel for a pass: straight from the image's
     * zero-padded planes (ShiftedConvolution's layout) into a per-thread plane ({@link Kernels#convolvePlane}), or all channels at once by unfold and
     * GEMM into a per-thread [O, L] buffer. Both give the bits of ConvKernels' image-by-image product.
     */
    private final class ImageConvolution {
        private final Convolution conv;
        private final ConvShape s;
        private final float[] padded, values;
        private float[] centered;

        ImageConvolution(Convolution conv, int i) {
            this.conv = conv;
            this.s = conv.s;
            int image = s.c() * s.h() * s.w();
            if (conv.direct) {
                // zeroed for every image: ShiftedConvolution.pad, which writes the border's zeros once
                // per layout, made the forward slower here (3.4-3.6 against 4.5-4.8 ms, three process
                // pairs; cause not found)
                ShiftedConvolution.Padding p = conv.padding;
                int size = s.c() * p.plane();
                this.padded = ConvKernels.buffer(paddedPlanes, size);
                java.util.Arrays.fill(padded, 0, size, 0f);
                for (int c = 0; c < s.c(); c++)
                    for (int r = 0; r < s.h(); r++) {
                        System.arraycopy(conv.x, conv.xOff + i * image + (c * s.h() + r) * s.w(), padded,
                                c * p.plane() + (r + conv.ph) * p.wp() + conv.pw, s.w());
                    }
                this.values = ConvKernels.buffer(convolved, s.l());
            } else {
                this.padded = null;
                this.values = ConvKernels.buffer(outputs, s.o() * s.l());
                convolutions.multiplyImage(convolutions.unfoldImage(conv.x, conv.xOff, s, 1, 1, conv.ph, conv.pw, i),
                        conv.w, conv.wOff, conv.bias, conv.bOff, s, values, 0);
            }
        }

        /** Whether the planes are computed one by one from the padded image ({@link #addWeightGradient} works). */
        boolean direct() {
            return conv.direct;
        }

        /** dw[dwOff .. + K) += channel ch's weight gradient for this image, given its output gradient plane at g[gOff ..]. */
        void addWeightGradient(float[] g, int gOff, float[] dw, int dwOff) {
            k.convolvePlaneWeights(padded, 0, conv.padding.wp(), conv.offsets, s.k(), g, gOff, s.oh(), s.ow(), dw, dwOff);
        }

        /** This image's padded planes minus c, padding included, for {@link #addCenteredWeightSums}. */
        void center(float c) {
            int size = s.c() * conv.padding.plane();
            centered = ConvKernels.buffer(centeredPlanes, size);
            for (int j = 0; j < size; j++) centered[j] = padded[j] - c;
        }

        /** dw[dwOff .. + K) += sum over the plane of v[vOff + p] times each tap's window of the centred image (after {@link #center}). */
        void addCenteredWeightSums(float[] v, int vOff, float[] dw, int dwOff) {
            k.convolvePlaneWeights(centered, 0, conv.padding.wp(), conv.offsets, s.k(), v, vOff, s.oh(), s.ow(), dw, dwOff);
        }

        /** The array holding channel ch's plane after {@link #plane}. */
        float[] values() {
            return values;
        }

        /** Channel ch's output plane: its offset in {@link #values()} (computed now on the direct path). */
        int plane(int ch) {
            if (!conv.direct) return ch * s.l();
            k.convolvePlane(padded, 0, conv.padding.wp(), conv.offsets, s.k(), conv.w, conv.wOff + ch * s.k(),
                    conv.bias != null, conv.bias == null ? 0f : conv.bias[conv.bOff + ch], values, 0, s.oh(), s.ow());
            return 0;
        }
    }

    /**
     * out, idx [N, O, OH/2, OW/2] = maxPool2x2(relu(batchNorm(conv(x)))) with mean, var, rstd [O]
     * (batch statistics, biased variance); cb (conv bias), bnW and bnB may be null.
     */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] cb, int cbOff, float[] bnW, int bnWOff,
                 float[] bnB, int bnBOff, float eps, float[] out, int oOff, int[] idx, int iOff,
                 float[] mean, int mo, float[] var, int vo, float[] rstd, int ro, ConvShape s, int ph, int pw) {
        int n = s.n(), o = s.o(), l = s.l();
        Convolution conv = new Convolution(x, xOff, w, wOff, cb, cbOff, s, ph, pw);
        // the statistics as FusedKernels.statistics, per (image, channel) segment
        float[] sums = new float[n * o], squares = new float[n * o];
        parallel.forEach(n, i -> {
            ImageConvolution y = conv.image(i);
            for (int ch = 0; ch < o; ch++) {
                int at = y.plane(ch);
                float sum = k.reduce(ReduceOp.SUM, y.values(), at, l);
                sums[i * o + ch] = sum;
                squares[i * o + ch] = k.centeredDot(null, 0, y.values(), at, FusedKernels.segmentCentre(sum, l), l);
            }
        });
        float[] m = new float[o], scale = new float[o];
        for (int ch = 0; ch < o; ch++) {
            FusedKernels.combineStatistics(sums, squares, ch, o, n, l, eps, mean, mo + ch, var, vo + ch, rstd, ro + ch);
            m[ch] = mean[mo + ch];
            scale[ch] = bnW == null ? rstd[ro + ch] : rstd[ro + ch] * bnW[bnWOff + ch];
        }
        int poh = s.oh() / 2, pow = s.ow() / 2, outs = poh * pow;
        int[] topLeft = FusedKernels.topLeft(s.ow(), poh, pow);
        parallel.forEach(n, i -> {
            ImageConvolution y = conv.image(i);
            float[] plane = ConvKernels.buffer(planes, l);
            for (int ch = 0; ch < o; ch++) {
                k.affineCentered(y.values(), y.plane(ch), m[ch], scale[ch], null, 0, 0f, bnB == null ? 0f : bnB[bnBOff + ch],
                        plane, 0, l);
                fused.unary(UnaryOp.RELU, plane, 0, plane, 0, l);
                int at = (i * o + ch) * outs;
                k.maxPool2x2(plane, 0, s.ow(), topLeft, out, oOff + at, idx, iOff + at);
            }
        });
    }

    /**
     * The backward of {@link #forward} given g, its output and positions (out, idx) and statistics:
     * gradX [N, C, H, W], gradW [O, C, kh, kw], gradCb [O] (the convolution's), gradBnW, gradBnB [O]
     * (batch norm's); each may be null (not computed). cb and bnW may be null.
     */
    void backward(float[] g, int gOff, float[] out, int oOff, int[] idx, int iOff, float[] x, int xOff,
                  float[] w, int wOff, float[] cb, int cbOff, float[] bnW, int bnWOff, float[] mean, int mo,
                  float[] rstd, int ro, float[] gradX, int gxOff, float[] gradW, int gwOff, float[] gradCb, int gcbOff,
                  float[] gradBnW, int gbwOff, float[] gradBnB, int gbbOff, ConvShape s, int ph, int pw) {
        if (gradX == null && s.ow() >= k.lanes()) {
            backwardInOnePass(g, gOff, out, oOff, idx, iOff, x, xOff, w, wOff, cb, cbOff, bnW, bnWOff, mean, mo, rstd, ro,
                    gradW, gwOff, gradCb, gcbOff, gradBnW, gbwOff, gradBnB, gbbOff, s, ph, pw);
            return;
        }
        int n = s.n(), o = s.o(), l = s.l(), outs = (s.oh() / 2) * (s.ow() / 2);
        Convolution conv = new Convolution(x, xOff, w, wOff, cb, cbOff, s, ph, pw);
        double count = (double) n * l;
        // pass 1: per image and channel, the sums of batch norm's incoming gradient (g put back at
        // the window maxima whose pooled value is > 0) and of it times the centred activations
        float[] sumG = new float[n * o], sumGx = new float[n * o];
        parallel.forEach(n, i -> {
            ImageConvolution y = conv.image(i);
            float[] plane = ConvKernels.buffer(planes, l), masked = ConvKernels.buffer(pooled, outs);
            for (int ch = 0; ch < o; ch++) {
                int at = (i * o + ch) * outs;
                fused.unpool(g, gOff + at, out, oOff + at, idx, iOff + at, outs, masked, plane, 0, l);
                sumG[i * o + ch] = k.reduce(ReduceOp.SUM, plane, 0, l);
                sumGx[i * o + ch] = k.centeredDot(plane, 0, y.values(), y.plane(ch), mean[mo + ch], l);
            }
        });
        Coefficients coefficients = coefficients(sumG, sumGx, n, o, count, rstd, ro, bnW, bnWOff, gradBnW, gbwOff, gradBnB, gbbOff);
        float[] a = coefficients.a(), bx = coefficients.bx(), cst = coefficients.c();
        if (gradX == null && gradW == null && gradCb == null) return;
        // pass 2: batch norm's input gradient plane by plane, and from it the convolution's
        // gradients while it is in cache: the weights' and the bias's plane by plane where the
        // planes are computed from the padded image, else from the image's [O, L] and columns
        int size = o * s.k(), image = s.c() * s.h() * s.w();
        float[] weightParts = gradW == null ? null : new float[n * size];
        float[] biasParts = gradCb == null ? null : new float[n * o];
        parallel.forEach(n, i -> {
            ImageConvolution y = conv.image(i);
            boolean whole = gradX != null || !y.direct(); // the image's gradient [O, L] is needed
            // on the GEMM path, y's own buffer: each plane is read, then overwritten by its gradient
            float[] gy = whole ? ConvKernels.buffer(outputs, o * l) : ConvKernels.buffer(gradientPlanes, l);
            float[] plane = ConvKernels.buffer(planes, l), masked = ConvKernels.buffer(pooled, outs);
            for (int ch = 0; ch < o; ch++) {
                int at = (i * o + ch) * outs, gyAt = whole ? ch * l : 0;
                fused.unpool(g, gOff + at, out, oOff + at, idx, iOff + at, outs, masked, plane, 0, l);
                k.affineCentered(y.values(), y.plane(ch), mean[mo + ch], bx[ch], plane, 0, a[ch], cst[ch], gy, gyAt, l);
                if (biasParts != null) biasParts[i * o + ch] = k.reduce(ReduceOp.SUM, gy, gyAt, l);
                if (weightParts != null && y.direct()) y.addWeightGradient(gy, gyAt, weightParts, i * size + ch * s.k());
            }
            if (weightParts != null && !y.direct()) {
                float[] cols = convolutions.unfoldImage(x, xOff, s, 1, 1, ph, pw, i);
                convolutions.weightProduct(gy, 0, cols, l, o, s.k(), weightParts, i * size, false, new float[4]);
            }
            if (gradX != null) convolutions.backwardInputImage(gy, 0, w, wOff, s, 1, 1, ph, pw, gradX, gxOff + i * image);
        });
        if (biasParts != null) {
            // per image in float lanes, across images in double in image order (as ConvKernels.BiasSums)
            for (int ch = 0; ch < o; ch++) gradCb[gcbOff + ch] = (float) sumOverImages(biasParts, n, o, ch);
        }
        if (weightParts != null) ConvKernels.sumChunks(k, parallel, weightParts, n, size, size, gradW, gwOff);
    }

    /**
     * {@link #backward} without the input gradient, in one pass over the images instead of two (the
     * pooled gradient, output and positions are read once): the convolution's gradients are linear
     * in batch norm's three per-channel coefficients (gy = a g + bx (x - mean) + c, which need the
     * whole batch's sums), so each plane contributes three sums per tap instead, combined once the
     * coefficients are known: dW_t = a sum(g in_t) + bx sum((x - mean) in_t) + c sum(in_t). The
     * image is centred on the batch's mean (padding included) for these sums, which changes nothing
     * in exact arithmetic (the gy of a channel sum to 0 over the batch: batch norm removes shifts)
     * and keeps the three terms from cancelling where the image is far from zero (Omniglot's white
     * background). Batch norm's gradients are the two-pass ones, bit for bit.
     */
    private void backwardInOnePass(float[] g, int gOff, float[] out, int oOff, int[] idx, int iOff, float[] x, int xOff,
                                   float[] w, int wOff, float[] cb, int cbOff, float[] bnW, int bnWOff, float[] mean, int mo,
                                   float[] rstd, int ro, float[] gradW, int gwOff, float[] gradCb, int gcbOff,
                                   float[] gradBnW, int gbwOff, float[] gradBnB, int gbbOff, ConvShape s, int ph, int pw) {
        int n = s.n(), o = s.o(), l = s.l(), taps = s.k(), outs = (s.oh() / 2) * (s.ow() / 2);
        Convolution conv = new Convolution(x, xOff, w, wOff, cb, cbOff, s, ph, pw);
        double count = (double) n * l;
        boolean weights = gradW != null, convolution = weights || gradCb != null;
        float centre = convolution ? (float) imageMean(x, xOff, n * s.c() * s.h() * s.w()) : 0f;
        float[] sumG = new float[n * o], sumGx = new float[n * o];
        // per image: sum(g in_t) and sum((x - mean) in_t) per channel and tap, sum(in_t) per tap; sum(x - mean) per channel
        float[] gIn = weights ? new float[n * o * taps] : null, xIn = weights ? new float[n * o * taps] : null;
        float[] in = weights ? new float[n * taps] : null, xSums = gradCb != null ? new float[n * o] : null;
        parallel.forEach(n, i -> {
            ImageConvolution y = conv.image(i);
            float[] plane = ConvKernels.buffer(planes, l), masked = ConvKernels.buffer(pooled, outs);
            float[] centred = ConvKernels.buffer(gradientPlanes, l);
            if (weights) {
                y.center(centre);
                float[] one = ConvKernels.buffer(ones, l);
                java.util.Arrays.fill(one, 0, l, 1f);
                y.addCenteredWeightSums(one, 0, in, i * taps);
            }
            for (int ch = 0; ch < o; ch++) {
                int at = (i * o + ch) * outs, xAt = y.plane(ch);
                float m = mean[mo + ch];
                fused.unpool(g, gOff + at, out, oOff + at, idx, iOff + at, outs, masked, plane, 0, l);
                sumG[i * o + ch] = k.reduce(ReduceOp.SUM, plane, 0, l);
                sumGx[i * o + ch] = k.centeredDot(plane, 0, y.values(), xAt, m, l);
                if (!convolution) continue;
                k.affineCentered(y.values(), xAt, m, 1f, null, 0, 0f, 0f, centred, 0, l);
                if (xSums != null) xSums[i * o + ch] = k.reduce(ReduceOp.SUM, centred, 0, l);
                if (weights) {
                    y.addCenteredWeightSums(plane, 0, gIn, (i * o + ch) * taps);
                    y.addCenteredWeightSums(centred, 0, xIn, (i * o + ch) * taps);
                }
            }
        });
        Coefficients coefficients = coefficients(sumG, sumGx, n, o, count, rstd, ro, bnW, bnWOff, gradBnW, gbwOff, gradBnB, gbbOff);
        for (int ch = 0; ch < o; ch++) {
            double a = coefficients.a()[ch], bx = coefficients.bx()[ch], c = coefficients.c()[ch];
            if (gradCb != null) {
                gradCb[gcbOff + ch] = (float) (a * sumOverImages(sumG, n, o, ch) + bx * sumOverImages(xSums, n, o, ch) + c * count);
            }
            if (!weights) continue;
            for (int t = 0; t < taps; t++) {
                double sgIn = 0, sxIn = 0, sIn = 0;
                for (int i = 0; i < n; i++) {
                    sgIn += gIn[(i * o + ch) * taps + t];
                    sxIn += xIn[(i * o + ch) * taps + t];
                    sIn += in[i * taps + t];
                }
                gradW[gwOff + ch * taps + t] = (float) (a * sgIn + bx * sxIn + c * sIn);
            }
        }
    }

    /** Batch norm's input gradient gy = a g + bx (x - mean) + c, per channel. */
    private record Coefficients(float[] a, float[] bx, float[] c) {
    }

    /**
     * From the per-image sums of g and of g (x - mean): batch norm's parameter gradients (written
     * where not null) and its input gradient's coefficients, as FusedKernels.channelBackward
     * computes them (so the same bits).
     */
    private static Coefficients coefficients(float[] sumG, float[] sumGx, int n, int o, double count, float[] rstd, int ro,
                                             float[] bnW, int bnWOff, float[] gradBnW, int gbwOff, float[] gradBnB, int gbbOff) {
        float[] a = new float[o], bx = new float[o], c = new float[o];
        for (int ch = 0; ch < o; ch++) {
            double sg = sumOverImages(sumG, n, o, ch), sgx = sumOverImages(sumGx, n, o, ch);
            float rs = rstd[ro + ch], wc = bnW == null ? 1f : bnW[bnWOff + ch];
            if (gradBnB != null) gradBnB[gbbOff + ch] = (float) sg;
            if (gradBnW != null) gradBnW[gbwOff + ch] = (float) (sgx * rs);
            a[ch] = rs * wc;
            bx[ch] = (float) (-wc * (double) rs * rs * rs * sgx / count);
            c[ch] = (float) (-rs * wc * sg / count);
        }
        return new Coefficients(a, bx, c);
    }

    /** The mean of x[xOff .. xOff + size), in double, in order. */
    private static double imageMean(float[] x, int xOff, int size) {
        double sum = 0;
        for (int j = 0; j < size; j++) sum += x[xOff + j];
        return sum / Math.max(1, size);
    }

    /** sum over images i of segments[i*o + ch], in double, in image order. */
    private static double sumOverImages(float[] segments, int n, int o, int ch) {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += segments[i * o + ch];
        return sum;
    }
}
