package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.ConvShape;

import java.util.Arrays;

/**
 * 2-D convolution image by image: each task unfolds one image into a per-thread column buffer
 * (C*kh*kw x OH*OW floats, a few hundred KB for Conv-4, so it stays in cache while the packed GEMM
 * reads it) and multiplies it there. Against im2col of the whole batch followed by a batched
 * product, nothing batch-sized is allocated besides the output, and the weight gradient is summed
 * over images inside the GEMM (accumulating K slices) instead of as N products and a reduction.
 *
 * <p>Small outputs (the deep layers of an image network: 7x7 or 3x3 positions) make thin products
 * whose packing and padded register tiles cost more than their arithmetic, so images are taken in
 * groups whose columns sit side by side ([K, G*L]) until a group has about
 * {@value #GROUP_COLUMNS} columns; the group's outputs are then copied to their images.
 *
 * <p>Two faster formulations take the shapes they suit before this path: 3x3 stride-1 windows over
 * 16 to 128 channels by Winograd's F(2x2, 3x3) ({@link WinogradConvolution}; the weight gradient
 * too, except mid-sized outputs where the shifted windows are as fast), other stride-1 windows with
 * K from 32 to 1152 as products over shifted windows ({@link ShiftedConvolution}; also the weight
 * gradient of outputs of 32 positions or more).
 *
 * <p>Determinism: the forward and the input gradient partition images; the weight gradient sums
 * groups of images in a fixed number of chunks that depends on N and L only (each chunk in image
 * order, then the chunks in order), so results do not depend on the thread count.
 */
final class ConvKernels {
    /** At most this many partial weight gradients (chunks of images) are summed at the end. */
    static final int WEIGHT_CHUNKS = 16;
    /** Weight gradients with at most this many columns per output channel are computed as dot products. */
    static final int DOT_K = 16;
    /** Images are grouped until their output positions reach this many columns. */
    static final int GROUP_COLUMNS = 128;

    private final Gemm gemm;
    private final Kernels kernels;
    private final Parallel parallel;
    private final ShiftedConvolution shifted;
    /** Null: direct kernels only. */
    private final WinogradConvolution winograd;
    // per-thread scratch: the group's columns, and the group's outputs or incoming gradients side by side
    private final ThreadLocal<float[]> columns = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> outputs = ThreadLocal.withInitial(() -> new float[0]);

    ConvKernels(Gemm gemm, Kernels kernels, Parallel parallel, boolean winograd) {
        this.gemm = gemm;
        this.kernels = kernels;
        this.parallel = parallel;
        this.shifted = new ShiftedConvolution(kernels, parallel);
        this.winograd = winograd ? new WinogradConvolution(kernels, parallel) : null;
    }

    /** Whether 3x3 stride-1 convolutions go through Winograd where it applies. */
    boolean winograd() {
        return winograd != null;
    }

    static float[] buffer(ThreadLocal<float[]> local, int size) {
        float[] b = local.get();
        if (b.length < size) {
            b = new float[size];
            local.set(b);
        }
        return b;
    }

    /** Images per group for L output positions: 1 when L alone is wide enough. */
    static int groupSize(int n, int l) {
        return Math.max(1, Math.min(n, (GROUP_COLUMNS + l - 1) / Math.max(1, l)));
    }

    /** out [N, O, OH, OW] = weight [O, K] times the columns of each image of x [N, C, H, W], plus bias [O] (may be null). */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] out, int oOff, ConvShape s,
                 int sh, int sw, int ph, int pw) {
        if (winograd != null && winograd.applies(s, sh, sw, ph, pw)) {
            winograd.forward(x, xOff, w, wOff, bias, bOff, out, oOff, s, ph, pw);
            return;
        }
        if (shifted.appliesToForward(s, sh, sw)) {
            shifted.forward(x, xOff, w, wOff, bias, bOff, out, oOff, s, ph, pw);
            return;
        }
        int k = s.k(), l = s.l(), o = s.o(), n = s.n();
        int group = groupSize(n, l), groups = (n + group - 1) / group;
        parallel.forEach(groups, gi -> {
            int n0 = gi * group, count = Math.min(group, n - n0), width = count * l;
            float[] cols = unfoldGroup(x, xOff, s, sh, sw, ph, pw, n0, count);
            if (count == 1) {
                multiplyImage(cols, w, wOff, bias, bOff, s, out, oOff + n0 * o * l);
                return;
            }
            float[] product = buffer(outputs, o * width);
            gemm.multiply(w, wOff, k, 1, cols, 0, width, 1, product, 0, width, 1, k, 0, o, 0, width);
            for (int g = 0; g < count; g++) {
                for (int r = 0; r < o; r++) {
                    float b = bias == null ? 0f : bias[bOff + r];
                    int src = r * width + g * l, dst = oOff + ((n0 + g) * o + r) * l;
                    for (int i = 0; i < l; i++) out[dst + i] = product[src + i] + b;
                }
            }
        });
    }

    /**
     * One image's output [O, L] at dst[dOff ..] from its columns [K, L] (at 0 of cols): weight
     * times the columns, then the bias added while the output is in cache (one more pass here
     * instead of one over the batch). What {@link #forward} does for an image it takes alone, and
     * {@link ConvolutionBlock} to recompute an image's output.
     */
    void multiplyImage(float[] cols, float[] w, int wOff, float[] bias, int bOff, ConvShape s, float[] dst, int dOff) {
        int k = s.k(), l = s.l(), o = s.o();
        gemm.multiply(w, wOff, k, 1, cols, 0, l, 1, dst, dOff, l, 1, k, 0, o, 0, l);
        if (bias == null) return;
        for (int r = 0; r < o; r++) {
            float b = bias[bOff + r];
            for (int i = dOff + r * l, end = i + l; i < end; i++) dst[i] += b;
        }
    }

    /** Image i's columns [K, L] in the per-thread buffer (at 0). */
    float[] unfoldImage(float[] x, int xOff, ConvShape s, int sh, int sw, int ph, int pw, int i) {
        return unfoldGroup(x, xOff, s, sh, sw, ph, pw, i, 1);
    }

    /** gradX [N, C, H, W] = each image's columns weight^T g folded back (overwritten). */
    void backwardInput(float[] g, int gOff, float[] w, int wOff, float[] gradX, int xOff, ConvShape s,
                       int sh, int sw, int ph, int pw) {
        if (winograd != null && winograd.applies(s, sh, sw, ph, pw)) {
            winograd.backwardInput(g, gOff, w, wOff, gradX, xOff, s, ph, pw);
            return;
        }
        if (shifted.appliesToInputGradient(s, sh, sw, ph, pw)) {
            shifted.backwardInput(g, gOff, w, wOff, gradX, xOff, s, ph, pw);
            return;
        }
        int k = s.k(), l = s.l(), o = s.o(), n = s.n(), image = s.c() * s.h() * s.w();
        int group = groupSize(n, l), groups = (n + group - 1) / group;
        parallel.forEach(groups, gi -> {
            int n0 = gi * group, count = Math.min(group, n - n0), width = count * l;
            float[] cols = buffer(columns, k * width);
            float[] in = groupGradients(g, gOff, n0, count, o, l);
            int inAt = count > 1 ? 0 : gOff + n0 * o * l;
            // A = weight^T [K, O]: element (i, p) at p*K + i
            gemm.multiply(w, wOff, 1, k, in, inAt, width, 1, cols, 0, width, 1, o, 0, k, 0, width);
            for (int j = 0; j < count; j++) fold(cols, j * l, width, s, sh, sw, ph, pw, gradX, xOff + (n0 + j) * image);
        });
    }

    /**
     * One image's input gradient [C, H, W] at gradX[xAt ..] (overwritten) from its incoming
     * gradient [O, L] at g[gAt ..]: weight^T g into the per-thread columns, folded back, as
     * {@link #backwardInput} does for an image it takes alone.
     */
    void backwardInputImage(float[] g, int gAt, float[] w, int wOff, ConvShape s, int sh, int sw, int ph, int pw,
                            float[] gradX, int xAt) {
        int k = s.k(), l = s.l();
        float[] cols = buffer(columns, k * l);
        gemm.multiply(w, wOff, 1, k, g, gAt, l, 1, cols, 0, l, 1, s.o(), 0, k, 0, l);
        fold(cols, 0, l, s, sh, sw, ph, pw, gradX, xAt);
    }

    /** gradW [O, K] = sum over images of g [O, L] times the image's columns transposed (overwritten). */
    void backwardWeight(float[] x, int xOff, float[] g, int gOff, float[] gradW, int wOff, ConvShape s,
                        int sh, int sw, int ph, int pw) {
        backwardWeight(x, xOff, g, gOff, gradW, wOff, null, 0, s, sh, sw, ph, pw);
    }

    /** As above, and with gradB non-null the bias's gradient [O] (per-channel sums of g) into gradB at bOff. */
    void backwardWeight(float[] x, int xOff, float[] g, int gOff, float[] gradW, int wOff, float[] gradB, int bOff,
                        ConvShape s, int sh, int sw, int ph, int pw) {
        if (winograd != null && WinogradConvolution.appliesToWeightGradient(s, sh, sw, ph, pw)) {
            winograd.backwardWeight(x, xOff, g, gOff, gradW, wOff, gradB, bOff, s, ph, pw);
            return;
        }
        if (ShiftedConvolution.appliesToWeightGradient(s, sh, sw, pw)) {
            shifted.backwardWeight(x, xOff, g, gOff, gradW, wOff, gradB, bOff, s, ph, pw);
            return;
        }
        int k = s.k(), l = s.l(), o = s.o(), n = s.n(), size = o * k;
        int group = groupSize(n, l), groups = (n + group - 1) / group;
        int chunks = Math.min(groups, WEIGHT_CHUNKS);
        BiasSums biasSums = gradB == null ? null : new BiasSums(chunks, o, l);
        float[] partial = chunks == 1 ? gradW : new float[chunks * size];
        int partialOff = chunks == 1 ? wOff : 0;
        parallel.forEach(chunks, chunk -> {
            int from = (int) ((long) groups * chunk / chunks), to = (int) ((long) groups * (chunk + 1) / chunks);
            int at = partialOff + chunk * size;
            float[] d = new float[4]; // dots4's results
            for (int gi = from; gi < to; gi++) {
                int n0 = gi * group, count = Math.min(group, n - n0), width = count * l;
                float[] cols = unfoldGroup(x, xOff, s, sh, sw, ph, pw, n0, count);
                float[] in = groupGradients(g, gOff, n0, count, o, l);
                int inAt = count > 1 ? 0 : gOff + n0 * o * l;
                if (biasSums != null) {
                    for (int j = 0; j < count; j++) biasSums.add(kernels, chunk, g, gOff + (n0 + j) * o * l);
                }
                weightProduct(in, inAt, cols, width, o, k, partial, at, gi > from, d);
            }
        });
        if (biasSums != null) biasSums.total(gradB, bOff);
        if (chunks == 1) return;
        sumChunks(kernels, parallel, partial, chunks, size, size, gradW, wOff);
    }

    /**
     * c [O, K] at cOff (= or += when accumulate) = in [O, width] at inAt (rows width apart) times
     * cols [K, width] (at 0) transposed: a weight gradient's product over the columns of one image
     * or group. d: four floats of scratch.
     */
    void weightProduct(float[] in, int inAt, float[] cols, int width, int o, int k, float[] c, int cOff,
                       boolean accumulate, float[] d) {
        if (k <= DOT_K) {
            // a handful of long dot products (first layer: K = 9, L = 784): packing the
            // incoming gradient for a GEMM would cost more than the products themselves
            for (int r = 0; r < o; r++) {
                int i = 0;
                for (; i + 4 <= k; i += 4) {
                    // four columns' rows against one row of g, read once
                    kernels.dots4(in, inAt + r * width, cols, i * width, width, width, d, 0);
                    for (int j = 0; j < 4; j++) c[cOff + r * k + i + j] = accumulate ? c[cOff + r * k + i + j] + d[j] : d[j];
                }
                for (; i < k; i++) {
                    float dot = kernels.dot(in, inAt + r * width, cols, i * width, width);
                    c[cOff + r * k + i] = accumulate ? c[cOff + r * k + i] + dot : dot;
                }
            }
        } else if (padded(k, gemm.mr()) * (long) padded(o, gemm.nr()) < padded(o, gemm.mr()) * (long) padded(k, gemm.nr())) {
            // the transpose's padded tiles are fewer (K narrow): C^T [K, O] = cols [K, width] g^T [width, O];
            // C^T's element (i, j) is c[j*K + i]
            gemm.multiply(cols, 0, width, 1, in, inAt, 1, width, c, cOff, 1, k, width, 0, k, 0, o, accumulate);
        } else {
            // C [O, K] = g [O, width] cols^T [width, K]
            gemm.multiply(in, inAt, width, 1, cols, 0, 1, width, c, cOff, k, 1, width, 0, o, 0, k, accumulate);
        }
    }

    /**
     * dst[dOff + e] = the first {@code length} elements of the chunks' partial sums (chunk c at
     * c*chunkSize) added in chunk order, for e &lt; length, split over elements: every element gets
     * the same additions whatever the thread count. dst may be partial itself (dOff 0).
     */
    static void sumChunks(Kernels kernels, Parallel parallel, float[] partial, int chunks, int chunkSize, int length,
                          float[] dst, int dOff) {
        parallel.forRange(length, 1 << 13, (e0, e1) -> {
            if (dst != partial || dOff != 0) System.arraycopy(partial, e0, dst, dOff + e0, e1 - e0);
            for (int c = 1; c < chunks; c++) {
                kernels.accumulate(io.github.grad4j.backend.ReduceOp.SUM, dst, dOff + e0, partial, c * chunkSize + e0, e1 - e0);
            }
        });
    }

    /**
     * A convolution's bias gradient (per-channel sums of g) gathered while the weight gradient
     * reads each image's g: one double per channel and chunk of images (each image's rows summed
     * in float lanes), the chunks added in order, so the thread count does not change the bits.
     */
    static final class BiasSums {
        private final double[] sums;
        private final int chunks, o, l;

        BiasSums(int chunks, int o, int l) {
            this.sums = new double[chunks * o];
            this.chunks = chunks;
            this.o = o;
            this.l = l;
        }

        /** Adds one image's g [O, L] at gAt to this chunk's sums. */
        void add(Kernels kernels, int chunk, float[] g, int gAt) {
            for (int r = 0; r < o; r++) sums[chunk * o + r] += kernels.reduce(io.github.grad4j.backend.ReduceOp.SUM, g, gAt + r * l, l);
        }

        void total(float[] gradB, int bOff) {
            for (int r = 0; r < o; r++) {
                double total = 0;
                for (int chunk = 0; chunk < chunks; chunk++) total += sums[chunk * o + r];
                gradB[bOff + r] = (float) total;
            }
        }
    }

    /** The columns of images n0 .. n0+count side by side in the per-thread [K, count*L] buffer. */
    private float[] unfoldGroup(float[] x, int xOff, ConvShape s, int sh, int sw, int ph, int pw, int n0, int count) {
        int l = s.l(), width = count * l, image = s.c() * s.h() * s.w();
        float[] cols = buffer(columns, s.k() * width);
        for (int j = 0; j < count; j++) unfold(x, xOff + (n0 + j) * image, s, sh, sw, ph, pw, cols, j * l, width);
        return cols;
    }

    /**
     * The incoming gradients [O, L] of images n0 .. n0+count side by side in the per-thread
     * [O, count*L] buffer; for one image, g itself (it is already [O, L] at gOff + n0*O*L).
     */
    private float[] groupGradients(float[] g, int gOff, int n0, int count, int o, int l) {
        if (count == 1) return g;
        int width = count * l;
        float[] side = buffer(outputs, o * width);
        for (int j = 0; j < count; j++)
            for (int r = 0; r < o; r++) System.arraycopy(g, gOff + ((n0 + j) * o + r) * l, side, r * width + j * l, l);
        return side;
    }

    private static int padded(int x, int tile) {
        return (x + tile - 1) / tile * tile;
    }

    // Output columns z whose input column z*sw - pw + j lies inside [0, w) are [firstInside, endInside).

    private static int firstInside(int j, int sw, int pw, int ow) {
        return Math.min(ow, Math.max(0, (pw - j + sw - 1) / sw));
    }

    private static int endInside(int j, int sw, int pw, int w, int ow) {
        return Math.max(firstInside(j, sw, pw, ow), Math.min(ow, (w + pw - j + sw - 1) / sw));
    }

    /**
     * One image [C, H, W] at xOff into columns at colsOff with rows {@code rowStride} apart: row
     * (c*kh + i)*kw + j holds x[c, y*sh - ph + i, z*sw - pw + j] at column y*OW + z, zero where that
     * is padding.
     */
    static void unfold(float[] x, int xOff, ConvShape s, int sh, int sw, int ph, int pw, float[] cols, int colsOff, int rowStride) {
        int rows = s.kh() * s.kw();
        for (int c = 0; c < s.c(); c++) {
            unfoldPlane(x, xOff + c * s.h() * s.w(), s.h(), s.w(), s.kh(), s.kw(), sh, sw, ph, pw, s.oh(), s.ow(),
                    cols, colsOff + c * rows * rowStride, rowStride);
        }
    }

    /** The kh*kw rows (OH*OW each, {@code rowStride} apart) of one channel plane [H, W] at src, written from dst on. */
    static void unfoldPlane(float[] x, int src, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                            int oh, int ow, float[] cols, int dst0, int rowStride) {
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                int dst = dst0 + (i * kw + j) * rowStride;
                int zLo = firstInside(j, sw, pw, ow), zHi = endInside(j, sw, pw, w, ow);
                for (int yy = 0; yy < oh; yy++, dst += ow) {
                    int hy = yy * sh - ph + i;
                    if (hy < 0 || hy >= h) {
                        Arrays.fill(cols, dst, dst + ow, 0f);
                        continue;
                    }
                    Arrays.fill(cols, dst, dst + zLo, 0f);
                    int row = src + hy * w - pw + j;
                    if (sw == 1) {
                        System.arraycopy(x, row + zLo, cols, dst + zLo, zHi - zLo);
                    } else {
                        for (int z = zLo; z < zHi; z++) cols[dst + z] = x[row + z * sw];
                    }
                    Arrays.fill(cols, dst + zHi, dst + ow, 0f);
                }
            }
    }

    /** The adjoint of {@link #unfold}: columns of one image (rows {@code rowStride} apart) summed into the image at xOff (overwritten). */
    static void fold(float[] cols, int colsOff, int rowStride, ConvShape s, int sh, int sw, int ph, int pw, float[] x, int xOff) {
        int rows = s.kh() * s.kw();
        for (int c = 0; c < s.c(); c++) {
            foldPlane(cols, colsOff + c * rows * rowStride, rowStride, s.h(), s.w(), s.kh(), s.kw(), sh, sw, ph, pw,
                    s.oh(), s.ow(), x, xOff + c * s.h() * s.w());
        }
    }

    /** The kh*kw rows ({@code rowStride} apart) from src summed into one channel plane [H, W] at dstPlane (overwritten), in the reference's order. */
    static void foldPlane(float[] cols, int src0, int rowStride, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                          int oh, int ow, float[] x, int dstPlane) {
        Arrays.fill(x, dstPlane, dstPlane + h * w, 0f);
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                int src = src0 + (i * kw + j) * rowStride;
                int zLo = firstInside(j, sw, pw, ow), zHi = endInside(j, sw, pw, w, ow);
                for (int yy = 0; yy < oh; yy++, src += ow) {
                    int hy = yy * sh - ph + i;
                    if (hy < 0 || hy >= h) continue;
                    int row = dstPlane + hy * w - pw + j;
                    for (int z = zLo; z < zHi; z++) x[row + z * sw] += cols[src + z];
                }
            }
    }
}
