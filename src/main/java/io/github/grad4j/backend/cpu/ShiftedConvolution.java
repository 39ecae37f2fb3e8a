package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.ConvShape;

import java.util.Arrays;

/**
 * Stride-1 convolutions as implicit products over shifted windows of the zero-padded image.
 *
 * <p>Pad each input plane to Hp x Wp and compute the output on the grid of positions q = y*Wp + x
 * for y &lt; OH and every x &lt; Wp (the columns x &gt;= OW run past the row end and are dropped).
 * Then row (c, i, j) of the unfolded columns is the padded image itself read from
 * c*Hp*Wp + i*Wp + j on: an NR-wide sliver of B is K contiguous runs of the padded image
 * ({@link Kernels#packWindows} copies them for {@link Kernels#gemmTile}); nothing is unfolded per
 * image, and the whole K stays in the tile's registers (no K slices added up through memory).
 * The weights are packed once per call. The price is the dropped columns: (kw - 1) of every Wp,
 * 2 of 16 for a 14x14 image with a 3x3 window.
 *
 * <p>The input gradient of a stride-1 convolution is again such a convolution: of the incoming
 * gradient padded by (kh-1-ph, kw-1-pw) with the window flipped and the channel axes swapped.
 * The weight gradient, transposed to [K, O], is the product of the shifted windows (rows of A, read
 * in place by {@link Kernels#convWeightTile}) with the incoming gradient transposed to
 * [position, O] (zero at the dropped positions), summed over images in the tile's registers.
 *
 * <p>Determinism: every output of the forward and the input gradient is one tile's fused
 * multiply-add chain over K in order; the weight gradient sums images in a fixed number of chunks
 * that depends on N only (each chunk in image order, then the chunks in order), so no result
 * depends on the thread count.
 */
final class ShiftedConvolution {
    /**
     * Widest K (C*kh*kw) taken this way. The tile walks all of K at once, so its A sliver (mr*K
     * floats) and the windows it reads should stay within L1/L2; Conv-4's layers have K = 9 and 576.
     * Wider products keep the packed GEMM, whose K blocking bounds its working set.
     */
    static final int MAX_K = 1152;

    private final Kernels kernels;
    private final Parallel parallel;
    private final int mr, nr, weightRows, weightColumns;
    // per-thread scratch: one padded image, one image's output grid, one image's transposed gradient
    // (the two with fixed zeros keep the layout those zeros were written for)
    private final ThreadLocal<PaddedImage> padded = ThreadLocal.withInitial(PaddedImage::new);
    private final ThreadLocal<float[]> grid = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> slivers = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<TransposedGradient> transposed = ThreadLocal.withInitial(TransposedGradient::new);
    private final ThreadLocal<int[]> rowStarts;

    ShiftedConvolution(Kernels kernels, Parallel parallel) {
        this.kernels = kernels;
        this.parallel = parallel;
        this.mr = kernels.mr();
        this.nr = kernels.nr();
        this.weightRows = kernels.weightTileRows();
        this.weightColumns = kernels.weightTileColumns();
        this.rowStarts = ThreadLocal.withInitial(() -> new int[weightRows]);
    }

    /**
     * Narrowest K, and fewest output rows (channels), taken this way. With a handful of steps per
     * tile, or most of a tile's rows padding, storing the tile and compacting the grid cost more
     * than the products: a first layer (C = 1, K = 9) keeps the image-by-image GEMM, which was
     * 1.3x faster there (forward) and, for its input gradient (one output row), 1.5x.
     */
    static final int MIN_K = 32;
    /**
     * Fewest output-grid positions (OH * Wp) for the weight gradient: its accumulators are loaded
     * and stored once per image, which 3x3 outputs (15 positions) do not amortize (1.3x slower
     * than grouping images into one GEMM there; 7x7 outputs are 1.4x faster this way).
     */
    static final int MIN_WEIGHT_POSITIONS = 32;

    /** Whether the forward of this convolution goes this way. */
    boolean appliesToForward(ConvShape s, int sh, int sw) {
        return sh == 1 && sw == 1 && s.k() >= MIN_K && s.k() <= MAX_K && s.o() >= mr;
    }

    /** Whether its input gradient does: the flipped convolution needs padding kh-1-ph, kw-1-pw &gt;= 0. */
    boolean appliesToInputGradient(ConvShape s, int sh, int sw, int ph, int pw) {
        int k = s.o() * s.kh() * s.kw();
        return sh == 1 && sw == 1 && ph < s.kh() && pw < s.kw() && k >= MIN_K && k <= MAX_K && s.c() >= mr;
    }

    /** Whether its weight gradient does. */
    static boolean appliesToWeightGradient(ConvShape s, int sh, int sw, int pw) {
        int positions = s.oh() * (s.w() + 2 * pw);
        return sh == 1 && sw == 1 && s.k() >= MIN_K && s.k() <= MAX_K && positions >= MIN_WEIGHT_POSITIONS;
    }

    /**
     * C planes of H x W zero-padded by (ph, pw) for a kh x kw window at stride 1 (also the layout
     * of ConvolutionBlock's padded images).
     */
    record Padding(int c, int h, int w, int ph, int pw, int kh, int kw) {
        int hp() {
            return h + 2 * ph;
        }

        int wp() {
            return w + 2 * pw;
        }

        int plane() {
            return hp() * wp();
        }

        int oh() {
            return hp() - kh + 1;
        }

        int ow() {
            return wp() - kw + 1;
        }

        int k() {
            return c * kh * kw;
        }

        /** Output grid positions y*Wp + x (x &lt; Wp) that the product has. */
        int positions() {
            return oh() * wp();
        }

        /** The padded planes plus the zeros that the last whole tile of positions reads past them. */
        int length(int columns) {
            return c * plane() + columns - positions() + kw - 1;
        }

        /** Where row (c, i, j) of the unfolded columns starts in the padded image. */
        int[] offsets() {
            int[] offsets = new int[k()];
            for (int ch = 0, p = 0; ch < c; ch++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) offsets[p++] = ch * plane() + i * wp() + j;
            return offsets;
        }
    }

    /** out [N, O, OH, OW] = weight [O, K] times each image's shifted windows, plus bias [O] (may be null). */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] out, int oOff, ConvShape s,
                 int ph, int pw) {
        Padding p = new Padding(s.c(), s.h(), s.w(), ph, pw, s.kh(), s.kw());
        int o = s.o(), k = s.k();
        float[] a = new float[Gemm.roundUp(o, mr) * k];
        for (int r = 0; r < o; r++) {
            int base = sliverBase(r, k);
            for (int q = 0; q < k; q++) a[base + q * mr] = w[wOff + r * k + q];
        }
        convolve(x, xOff, p, s.n(), a, o, bias, bOff, out, oOff);
    }

    /** gradX [N, C, H, W] = the convolution of g padded by (kh-1-ph, kw-1-pw) with the flipped, transposed weight. */
    void backwardInput(float[] g, int gOff, float[] w, int wOff, float[] gradX, int xOff, ConvShape s, int ph, int pw) {
        int c = s.c(), kh = s.kh(), kw = s.kw();
        Padding p = new Padding(s.o(), s.oh(), s.ow(), kh - 1 - ph, kw - 1 - pw, kh, kw);
        // row c, column (o, i, j) of the flipped weight is weight[o, c, kh-1-i, kw-1-j]: the window
        // of (o, c) read backwards
        int taps = kh * kw, k = p.k();
        float[] a = new float[Gemm.roundUp(c, mr) * k];
        for (int r = 0; r < c; r++) {
            int base = sliverBase(r, k);
            for (int oc = 0; oc < s.o(); oc++) {
                int last = wOff + (oc * c + r) * taps + taps - 1;
                for (int t = 0; t < taps; t++) a[base + (oc * taps + t) * mr] = w[last - t];
            }
        }
        convolve(g, gOff, p, s.n(), a, c, null, 0, gradX, xOff);
    }

    /** gradW [O, K] = sum over images of g [O, L] times the image's shifted windows transposed (overwritten). */
    void backwardWeight(float[] x, int xOff, float[] g, int gOff, float[] gradW, int wOff, float[] gradB, int bOff,
                        ConvShape s, int ph, int pw) {
        Padding p = new Padding(s.c(), s.h(), s.w(), ph, pw, s.kh(), s.kw());
        int k = s.k(), o = s.o(), n = s.n(), l = s.l(), image = s.c() * s.h() * s.w();
        int rows = Gemm.roundUp(k, weightRows), cols = Gemm.roundUp(o, weightColumns), size = rows * cols, positions = p.positions();
        int[] offsets = p.offsets();
        int chunks = Math.min(n, ConvKernels.WEIGHT_CHUNKS);
        ConvKernels.BiasSums biasSums = gradB == null ? null : new ConvKernels.BiasSums(chunks, o, l);
        float[] partial = new float[chunks * size]; // [chunk][K rounded][O rounded], zero: the tiles add to it
        parallel.forEach(chunks, chunk -> {
            int from = (int) ((long) n * chunk / chunks), to = (int) ((long) n * (chunk + 1) / chunks);
            int[] starts = rowStarts.get();
            for (int image0 = from; image0 < to; image0++) {
                float[] xp = pad(x, xOff + image0 * image, p, 0);
                float[] gt = transposeGradient(g, gOff + image0 * o * l, o, s.oh(), s.ow(), p.wp(), cols);
                if (biasSums != null) biasSums.add(kernels, chunk, g, gOff + image0 * o * l);
                for (int r0 = 0; r0 < rows; r0 += weightRows) {
                    // rows past K read any valid window; their sums land in rows that are never copied out
                    for (int r = 0; r < weightRows; r++) starts[r] = r0 + r < k ? offsets[r0 + r] : 0;
                    for (int c0 = 0; c0 < cols; c0 += weightColumns) {
                        kernels.convWeightTile(xp, starts, gt, c0, cols, positions, partial, chunk * size + r0 * cols + c0, cols);
                    }
                }
            }
        });
        if (biasSums != null) biasSums.total(gradB, bOff);
        // the chunks summed in order into the first (its K rows of [K, O]), then transposed back to [O, K]
        ConvKernels.sumChunks(kernels, parallel, partial, chunks, size, k * cols, partial, 0);
        for (int r = 0; r < o; r++)
            for (int q = 0; q < k; q++) gradW[wOff + r * k + q] = partial[q * cols + r];
    }

    /**
     * Where row r of an M x K matrix starts when packed in mr-row slivers over all of K (sliver
     * s at s*mr*K, element q*mr + r): the tiles' A operand. Rows past M stay zero.
     */
    private int sliverBase(int r, int k) {
        return r / mr * mr * k + r % mr;
    }

    /** out image by image [M, OH, OW] = a (M rows in slivers) times the shifted windows of src's image, plus bias. */
    private void convolve(float[] src, int srcOff, Padding p, int n, float[] a, int m, float[] bias, int bOff,
                          float[] out, int outOff) {
        int k = p.k(), cols = Gemm.roundUp(p.positions(), nr), rows = Gemm.roundUp(m, mr);
        int wp = p.wp(), oh = p.oh(), ow = p.ow(), image = p.c() * p.h() * p.w(), outImage = m * oh * ow;
        int[] offsets = p.offsets();
        parallel.forEach(n, image0 -> {
            float[] xp = pad(src, srcOff + image0 * image, p, cols);
            float[] y = ConvKernels.buffer(grid, rows * cols);
            float[] sliver = ConvKernels.buffer(slivers, k * nr);
            // a sliver of positions outside: packed once from the windows (a copy of K x NR floats),
            // then multiplied by every row sliver of the weights
            for (int q0 = 0; q0 < cols; q0 += nr) {
                kernels.packWindows(xp, q0, offsets, k, sliver);
                for (int r0 = 0; r0 < rows; r0 += mr) kernels.gemmTile(a, r0 * k, sliver, 0, k, y, r0 * cols + q0, cols);
            }
            // keep the OW real columns of each grid row, adding the bias while they are in cache
            for (int r = 0; r < m; r++) {
                float b = bias == null ? 0f : bias[bOff + r];
                for (int yy = 0; yy < oh; yy++) {
                    int from = r * cols + yy * wp, to = outOff + image0 * outImage + (r * oh + yy) * ow;
                    if (bias == null) System.arraycopy(y, from, out, to, ow);
                    else for (int xx = 0; xx < ow; xx++) out[to + xx] = y[from + xx] + b;
                }
            }
        });
    }

    /**
     * A thread's padded image and the layout its zeros were written for: the border and the tail
     * are the same zeros for every image of a layout, so only a new layout clears the buffer (and
     * each image then writes the interior).
     */
    private static final class PaddedImage {
        float[] data = new float[0];
        Padding layout;
        int length;
    }

    /** One image [C, H, W] at xOff into the per-thread padded planes (zero border, zero tail for the last tile). */
    private float[] pad(float[] x, int xOff, Padding p, int columns) {
        int length = p.length(Math.max(columns, p.positions()));
        PaddedImage buffer = padded.get();
        if (!p.equals(buffer.layout) || length != buffer.length) {
            if (buffer.data.length < length) buffer.data = new float[length];
            Arrays.fill(buffer.data, 0, length, 0f);
            buffer.layout = p;
            buffer.length = length;
        }
        float[] dst = buffer.data;
        int h = p.h(), w = p.w(), wp = p.wp(), plane = p.plane();
        for (int c = 0; c < p.c(); c++)
            for (int y = 0; y < h; y++) {
                System.arraycopy(x, xOff + (c * h + y) * w, dst, c * plane + (y + p.ph()) * wp + p.pw(), w);
            }
        return dst;
    }

    /** A thread's transposed gradient and the layout (O, OH, OW, Wp, cols) its zeros were written for. */
    private static final class TransposedGradient {
        float[] data = new float[0];
        int[] layout = new int[0];
    }

    /**
     * One image's incoming gradient [O, OH, OW] as [OH*Wp, cols]: row y*Wp + x holds g[., y, x],
     * zero for x &gt;= OW and columns past O (those zeros are cleared once per layout, as in pad).
     */
    private float[] transposeGradient(float[] g, int gOff, int o, int oh, int ow, int wp, int cols) {
        int length = oh * wp * cols;
        TransposedGradient buffer = transposed.get();
        int[] layout = {o, oh, ow, wp, cols};
        if (!Arrays.equals(layout, buffer.layout)) {
            if (buffer.data.length < length) buffer.data = new float[length];
            Arrays.fill(buffer.data, 0, length, 0f);
            buffer.layout = layout;
        }
        float[] t = buffer.data;
        for (int r = 0; r < o; r++)
            for (int y = 0; y < oh; y++) {
                int src = gOff + (r * oh + y) * ow, dst = y * wp * cols + r;
                for (int xx = 0; xx < ow; xx++, dst += cols) t[dst] = g[src + xx];
            }
        return t;
    }
}
