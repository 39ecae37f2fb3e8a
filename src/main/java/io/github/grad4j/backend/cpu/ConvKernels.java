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
 * <p>Determinism: the forward and the input gradient partition images; the weight gradient sums
 * images in a fixed number of chunks that depends on N only (each chunk in image order, then the
 * chunks in order), so results do not depend on the thread count.
 */
final class ConvKernels {
    /** At most this many partial weight gradients (chunks of images) are summed at the end. */
    private static final int WEIGHT_CHUNKS = 16;

    private final Gemm gemm;
    private final Kernels kernels;
    private final Parallel parallel;
    private final ThreadLocal<float[]> columns = ThreadLocal.withInitial(() -> new float[0]);

    ConvKernels(Gemm gemm, Kernels kernels, Parallel parallel) {
        this.gemm = gemm;
        this.kernels = kernels;
        this.parallel = parallel;
    }

    private float[] columnBuffer(int size) {
        float[] b = columns.get();
        if (b.length < size) {
            b = new float[size];
            columns.set(b);
        }
        return b;
    }

    /** out [N, O, OH, OW] = weight [O, K] times the columns of each image of x [N, C, H, W], plus bias [O] (may be null). */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] out, int oOff, ConvShape s,
                 int sh, int sw, int ph, int pw) {
        int k = s.k(), l = s.l(), o = s.o(), image = s.c() * s.h() * s.w();
        parallel.forEach(s.n(), n -> {
            float[] cols = columnBuffer(k * l);
            unfold(x, xOff + n * image, s, sh, sw, ph, pw, cols, 0);
            int at = oOff + n * o * l;
            gemm.multiply(w, wOff, k, 1, cols, 0, l, 1, out, at, l, 1, k, 0, o, 0, l);
            if (bias != null) {
                // the image's output is still in cache: one more pass here instead of one over the batch
                for (int r = 0; r < o; r++) {
                    float b = bias[bOff + r];
                    for (int i = at + r * l, end = i + l; i < end; i++) out[i] += b;
                }
            }
        });
    }

    /** gradX [N, C, H, W] = each image's columns weight^T g folded back (overwritten). */
    void backwardInput(float[] g, int gOff, float[] w, int wOff, float[] gradX, int xOff, ConvShape s,
                       int sh, int sw, int ph, int pw) {
        int k = s.k(), l = s.l(), o = s.o(), image = s.c() * s.h() * s.w();
        parallel.forEach(s.n(), n -> {
            float[] cols = columnBuffer(k * l);
            // A = weight^T [K, O]: element (i, p) at p*K + i
            gemm.multiply(w, wOff, 1, k, g, gOff + n * o * l, l, 1, cols, 0, l, 1, o, 0, k, 0, l);
            fold(cols, 0, s, sh, sw, ph, pw, gradX, xOff + n * image);
        });
    }

    /** gradW [O, K] = sum over images of g [O, L] times the image's columns transposed (overwritten). */
    void backwardWeight(float[] x, int xOff, float[] g, int gOff, float[] gradW, int wOff, ConvShape s,
                        int sh, int sw, int ph, int pw) {
        int k = s.k(), l = s.l(), o = s.o(), n = s.n(), image = s.c() * s.h() * s.w(), size = o * k;
        if (n == 0) {
            Arrays.fill(gradW, wOff, wOff + size, 0f);
            return;
        }
        int chunks = Math.min(n, WEIGHT_CHUNKS);
        float[] partial = chunks == 1 ? gradW : new float[chunks * size];
        int partialOff = chunks == 1 ? wOff : 0;
        // The product's padded tiles: [O, K] as M x N, or its transpose cols g^T [K, O] (better when
        // K is narrow, e.g. the first layer of an image network: K = 9).
        boolean transposed = padded(k, gemm.mr()) * (long) padded(o, gemm.nr()) < padded(o, gemm.mr()) * (long) padded(k, gemm.nr());
        parallel.forEach(chunks, chunk -> {
            int from = (int) ((long) n * chunk / chunks), to = (int) ((long) n * (chunk + 1) / chunks);
            float[] cols = columnBuffer(k * l);
            int at = partialOff + chunk * size;
            for (int img = from; img < to; img++) {
                unfold(x, xOff + img * image, s, sh, sw, ph, pw, cols, 0);
                int gAt = gOff + img * o * l;
                boolean accumulate = img > from;
                if (transposed) {
                    // C^T [K, O] = cols [K, L] g^T [L, O]; C^T's element (i, j) is gradW[j*K + i]
                    gemm.multiply(cols, 0, l, 1, g, gAt, 1, l, partial, at, 1, k, l, 0, k, 0, o, accumulate);
                } else {
                    // C [O, K] = g [O, L] cols^T [L, K]
                    gemm.multiply(g, gAt, l, 1, cols, 0, 1, l, partial, at, k, 1, l, 0, o, 0, k, accumulate);
                }
            }
        });
        if (chunks == 1) return;
        // sum the chunks in order, split over elements
        parallel.forRange(size, 1 << 13, (e0, e1) -> {
            System.arraycopy(partial, e0, gradW, wOff + e0, e1 - e0);
            for (int c = 1; c < chunks; c++) {
                kernels.accumulate(io.github.grad4j.backend.ReduceOp.SUM, gradW, wOff + e0, partial, c * size + e0, e1 - e0);
            }
        });
    }

    private static int padded(int x, int tile) {
        return (x + tile - 1) / tile * tile;
    }

    /**
     * One image [C, H, W] at xOff into its columns [C*kh*kw, OH*OW] at colsOff: row (c*kh + i)*kw + j
     * holds x[c, y*sh - ph + i, z*sw - pw + j] at column y*OW + z, zero where that is padding.
     */
    static void unfold(float[] x, int xOff, ConvShape s, int sh, int sw, int ph, int pw, float[] cols, int colsOff) {
        for (int c = 0; c < s.c(); c++) {
            unfoldPlane(x, xOff + c * s.h() * s.w(), s.h(), s.w(), s.kh(), s.kw(), sh, sw, ph, pw, s.oh(), s.ow(),
                    cols, colsOff + c * s.kh() * s.kw() * s.l());
        }
    }

    /** The kh*kw rows of one channel plane [H, W] at src, written from dst on (rows of OH*OW). */
    static void unfoldPlane(float[] x, int src, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                            int oh, int ow, float[] cols, int dst) {
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                // output columns z whose input column z*sw - pw + j lies inside [0, w)
                int zLo = Math.min(ow, Math.max(0, (pw - j + sw - 1) / sw));
                int zHi = Math.max(zLo, Math.min(ow, (w + pw - j + sw - 1) / sw));
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

    /** The adjoint of {@link #unfold}: columns of one image summed into the image at xOff (overwritten). */
    static void fold(float[] cols, int colsOff, ConvShape s, int sh, int sw, int ph, int pw, float[] x, int xOff) {
        for (int c = 0; c < s.c(); c++) {
            foldPlane(cols, colsOff + c * s.kh() * s.kw() * s.l(), s.h(), s.w(), s.kh(), s.kw(), sh, sw, ph, pw,
                    s.oh(), s.ow(), x, xOff + c * s.h() * s.w());
        }
    }

    /** The kh*kw rows from src summed into one channel plane [H, W] at dstPlane (overwritten), in the reference's order. */
    static void foldPlane(float[] cols, int src, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                          int oh, int ow, float[] x, int dstPlane) {
        Arrays.fill(x, dstPlane, dstPlane + h * w, 0f);
        for (int i = 0; i < kh; i++)
            for (int j = 0; j < kw; j++) {
                int zLo = Math.min(ow, Math.max(0, (pw - j + sw - 1) / sw));
                int zHi = Math.max(zLo, Math.min(ow, (w + pw - j + sw - 1) / sw));
                for (int yy = 0; yy < oh; yy++, src += ow) {
                    int hy = yy * sh - ph + i;
                    if (hy < 0 || hy >= h) continue;
                    int row = dstPlane + hy * w - pw + j;
                    for (int z = zLo; z < zHi; z++) x[row + z * sw] += cols[src + z];
                }
            }
    }
}
