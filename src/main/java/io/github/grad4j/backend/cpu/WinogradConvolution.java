package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.ConvShape;
import io.github.grad4j.backend.ReduceOp;

import java.util.Arrays;

/**
 * 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016). Each 2x2 block of outputs (a tile) is
 * A^T [(G w G^T) . (B^T d B)] A for the tile's 4x4 input patch d: summed over input channels, 16
 * products [M, K] x [K, tiles] of the transformed weights and inputs, with 16 multiply-adds per tile
 * and channel pair where the direct convolution has 36. The transforms are additions (B, A), and G's
 * is done once per call.
 *
 * <p>Layout. Images go in groups of {@code lanes}, the lanes of one tile position, so that every
 * transform is a vector loop. A task takes one group and a band of tile rows: it gathers the band's
 * padded input rows as [K][row][even columns, odd columns][lanes] (zero outside the image), then
 * goes through the band's tiles one sliver (NR tiles) at a time: the sliver's transformed input
 * for all K channels (16 x K x NR floats) is written straight in the packed layout that
 * {@link Kernels#gemmTile} reads, multiplied by the 16 transformed weights, and the 16 products of
 * each output channel are transformed back and scattered to the images' 2x2 outputs. One sliver's
 * transformed input and products stay in L2; a band's (or the batch's) would not: the transformed
 * data are four times the input, and a first version that transformed whole bands (0.9 MB each of
 * transformed input and products) spent more in the transforms than the products saved.
 *
 * <p>The input gradient is the same convolution of g padded by 2 - p, with the window flipped and
 * the channel axes swapped (as in {@link ShiftedConvolution}). The weight gradient is the adjoint
 * of the products, summed over tiles: there the lanes are channels instead (see
 * {@link #backwardWeight}).
 *
 * <p>Accuracy: the transforms' coefficients are 1 and 1/2, and each output is a sum of 16 products
 * over K followed by additions of 9 of them: a few more roundings than the direct sum (the
 * convolution tests bound both alike; on data whose sums are exact the two agree bit for bit).
 * Non-finite inputs spread within a tile: an infinity or NaN anywhere in a tile's 4x4 patch makes
 * its four outputs NaN, where the direct sum has it only in the outputs whose window holds it (as
 * other libraries' Winograd kernels; {@code -Dgrad4j.winograd=false} keeps the direct kernels).
 * Determinism: every output is computed by one task in a fixed order, whatever the thread count.
 */
final class WinogradConvolution {
    /**
     * Fewest input and output channels for the weight gradient of outputs of 8x8 and more: 14x14
     * outputs, 100 images, 2 threads, minimum of 50 alternating runs: 1.3 against 2.5 ms at 16
     * channels, 2.5-2.9 against 5.4-5.7 ms at 32, 7.0-7.5 against 8.9-10.5 ms at 64.
     */
    static final int MIN_CHANNELS = 16;
    /**
     * Fewest input and output channels for the forward and the input gradient, and for the weight
     * gradient of outputs under 8x8: with fewer, the products' K (or M) is too short to pay for the
     * transforms. Same runs: forward at 16 channels 0.94 against 0.89 ms (14x14), 0.61 against 0.57
     * (7x7), 0.82-0.92 against 0.24-0.26 (3x3); at 32, 2.6-2.7 against 2.6-3.0 (14x14), 0.89-1.46
     * against 0.78-1.26 (7x7); at 48, 3.9-5.2 against 4.4-5.6 (14x14) and 1.4-1.5 against 1.6-1.9
     * (7x7); at 64 see {@link #MIN_OUTPUT}. The 3x3 weight gradient at 32 channels: 2.5-3.9 against
     * 1.5-2.0 ms.
     */
    static final int MIN_PRODUCT_CHANNELS = 48;
    /**
     * Most input or output channels taken this way: the products were measured at 16 to 64
     * channels, and the per-thread buffers grow with K (one sliver's transformed input is 16*K*NR
     * floats, 1 MB at K = 512).
     */
    static final int MAX_CHANNELS = 128;
    /**
     * Smallest output height and width. 3x3 outputs take 2x2 tiles (4x4 outputs, 1.8x the work), and
     * still beat the direct kernels, whose register tiles waste more there: Conv-4's last layer
     * (100 images, 64 channels, 2 threads, minimum of 50 alternating runs) forward 0.87 against
     * 1.29-1.44 ms, input gradient 0.86-0.90 against 1.30-1.39, weight gradient 1.69-1.85 against
     * 2.79-2.85 ms.
     */
    static final int MIN_OUTPUT = 3;
    /** A band of tile rows is widened until it has this many tiles (and whole slivers, when it can). */
    private static final int MIN_BAND_TILES = 64;
    /**
     * Padding between the 16 transformed matrices: their sizes are multiples of 4 KiB (K * NR
     * floats), and 16 streams 4 KiB apart map to the same L1 sets.
     */
    private static final int SKEW = 16;
    /** The weight gradient's products take whole images until they have about this many steps (tiles). */
    private static final int WEIGHT_PRODUCT_STEPS = 128;

    private final Kernels kernels;
    private final Parallel parallel;
    private final int mr, nr, lanes;
    // per-thread scratch: the band's gathered input rows, one sliver's transformed input and products
    private final ThreadLocal<float[]> gathered = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> transformed = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> products = ThreadLocal.withInitial(() -> new float[0]);
    // the weight gradient's: one image and its incoming gradient channels-last, their transforms, a tile
    private final ThreadLocal<float[]> channelsLast = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> gradientsLast = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> transformedGradients = ThreadLocal.withInitial(() -> new float[0]);
    private final ThreadLocal<float[]> tile = ThreadLocal.withInitial(() -> new float[0]);

    WinogradConvolution(Kernels kernels, Parallel parallel) {
        this.kernels = kernels;
        this.parallel = parallel;
        this.mr = kernels.mr();
        this.nr = kernels.nr();
        // images per tile position: a divisor of the sliver width, so slivers hold whole positions
        this.lanes = nr % 16 == 0 ? 16 : nr;
    }

    /**
     * Whether the forward goes this way (with C and O swapped, the same test covers the input
     * gradient). The batch must fill its groups of lanes to within a quarter: lanes past N are
     * computed and dropped, and the products' 2.25x saving comes out at 1.2-1.4x after the
     * transforms (measured on Conv-4's 14x14 and 7x7 layers).
     */
    boolean applies(ConvShape s, int sh, int sw, int ph, int pw) {
        int groups = (s.n() + lanes - 1) / lanes;
        return window(s, sh, sw, ph, pw) && Math.min(s.c(), s.o()) >= MIN_PRODUCT_CHANNELS
                && Math.min(s.h(), s.w()) >= MIN_OUTPUT && 4L * groups * lanes <= 5L * s.n();
    }

    /**
     * What every Winograd kernel here needs: a 3x3 window at stride 1, padding that the flipped
     * convolution can undo, at most {@value #MAX_CHANNELS} channels, outputs of {@value #MIN_OUTPUT}
     * and more, a batch.
     */
    private static boolean window(ConvShape s, int sh, int sw, int ph, int pw) {
        return s.kh() == 3 && s.kw() == 3 && sh == 1 && sw == 1 && ph <= 2 && pw <= 2
                && Math.max(s.c(), s.o()) <= MAX_CHANNELS && Math.min(s.oh(), s.ow()) >= MIN_OUTPUT && s.n() > 0;
    }

    /** out [N, O, OH, OW] = the convolution of x [N, C, H, W] with weight [O, C, 3, 3], plus bias [O] (may be null). */
    void forward(float[] x, int xOff, float[] w, int wOff, float[] bias, int bOff, float[] out, int oOff, ConvShape s,
                 int ph, int pw) {
        float[] u = transformWeights(w, wOff, s.o(), s.c(), false);
        convolve(x, xOff, s.n(), s.c(), s.h(), s.w(), ph, pw, u, s.o(), bias, bOff, out, oOff, s.oh(), s.ow());
    }

    /** gradX [N, C, H, W] = the convolution of g padded by (2 - ph, 2 - pw) with the flipped, transposed weight. */
    void backwardInput(float[] g, int gOff, float[] w, int wOff, float[] gradX, int xOff, ConvShape s, int ph, int pw) {
        float[] u = transformWeights(w, wOff, s.o(), s.c(), true);
        convolve(g, gOff, s.n(), s.o(), s.oh(), s.ow(), 2 - ph, 2 - pw, u, s.c(), null, 0, gradX, xOff, s.h(), s.w());
    }

    /**
     * Where the shifted windows' weight gradient applies (outputs of 32 positions and more), the
     * smallest output height and width from which this one is faster: 14x14 outputs (Conv-4's second
     * layer, 64 channels) took 7.1-7.5 ms against 10.3-10.5 for the shifted windows, 7x7 outputs
     * 3.2-3.9 against 2.9-3.8 ms (2 threads, minimum of 50 alternating runs), so those keep them.
     */
    static final int OVER_SHIFTED_WEIGHT_OUTPUT = 8;

    /**
     * Whether the weight gradient goes this way: for any batch (images are not grouped here), outputs
     * of {@value #OVER_SHIFTED_WEIGHT_OUTPUT}x{@value #OVER_SHIFTED_WEIGHT_OUTPUT} and more from
     * {@value #MIN_CHANNELS} channels, smaller ones from {@value #MIN_PRODUCT_CHANNELS} channels
     * where the shifted windows' weight gradient does not apply.
     */
    static boolean appliesToWeightGradient(ConvShape s, int sh, int sw, int ph, int pw) {
        int channels = Math.min(s.c(), s.o()), output = Math.min(s.oh(), s.ow());
        return window(s, sh, sw, ph, pw) && channels >= MIN_CHANNELS
                && (output >= OVER_SHIFTED_WEIGHT_OUTPUT
                    || channels >= MIN_PRODUCT_CHANNELS && !ShiftedConvolution.appliesToWeightGradient(s, sh, sw, pw));
    }

    /**
     * gradW [O, C, 3, 3] = G^T dU G with dU_xi [O, C] = sum over tiles of (A g A^T)_xi (B^T d B)_xi^T:
     * the adjoint of the forward's products. Here the lanes are channels: each image and its
     * incoming gradient are laid out channels-last ([position][C], [position][O]), so a tile's
     * transforms are vector loops over channels and write [tile][channel] rows, and the 16 products
     * [O, tiles] x [tiles, C] read both directly ({@link Kernels#gemmTileStrided}, K = the image's
     * tiles); no lanes are wasted on a partial group of images. Images are summed in chunks fixed by
     * N (each chunk in image order, then the chunks in order), as the direct weight gradient; gradB
     * (may be null) gets the bias's gradient.
     */
    void backwardWeight(float[] x, int xOff, float[] g, int gOff, float[] gradW, int wOff, float[] gradB, int bOff,
                        ConvShape s, int ph, int pw) {
        int n = s.n(), c = s.c(), o = s.o(), h = s.h(), w = s.w(), oh = s.oh(), ow = s.ow();
        int tilesX = (ow + 1) / 2, tilesY = (oh + 1) / 2, tiles = tilesX * tilesY;
        int hp = 2 * tilesY + 2, wp = 2 * tilesX + 2, gh = 2 * tilesY, gw = 2 * tilesX;
        int cp = Gemm.roundUp(c, nr), op = Gemm.roundUp(o, mr);
        // images per product: their tiles one after another make its K (a 7x7 output has 16 tiles,
        // too few steps to pay for loading and adding the register tile)
        int batch = Math.max(1, Math.min(n, WEIGHT_PRODUCT_STEPS / tiles)), rowsPerBatch = batch * tiles;
        int vStride = rowsPerBatch * cp + SKEW, mStride = rowsPerBatch * op + SKEW, uSize = op * cp;
        int image = c * h * w, l = oh * ow;
        int[] channel = new int[c], gradientChannel = new int[o];
        for (int i = 0; i < c; i++) channel[i] = i * h * w;
        for (int i = 0; i < o; i++) gradientChannel[i] = i * l;
        int chunks = Math.min(n, ConvKernels.WEIGHT_CHUNKS);
        ConvKernels.BiasSums biasSums = gradB == null ? null : new ConvKernels.BiasSums(chunks, o, l);
        float[] partial = new float[chunks * 16 * uSize]; // [chunk][xi][O rounded][C rounded]
        parallel.forEach(chunks, chunk -> {
            int from = (int) ((long) n * chunk / chunks), to = (int) ((long) n * (chunk + 1) / chunks);
            float[] xin = ConvKernels.buffer(channelsLast, hp * wp * c), gin = ConvKernels.buffer(gradientsLast, gh * gw * o);
            // columns past C and O (rounded to the tile) hold whatever the buffers held: the products read
            // them only into sums of rows and columns that are never kept
            float[] v = ConvKernels.buffer(transformed, 16 * vStride), dm = ConvKernels.buffer(transformedGradients, 16 * mStride);
            float[] product = ConvKernels.buffer(tile, mr * nr);
            for (int i0 = from; i0 < to; i0 += batch) {
                int count = Math.min(batch, to - i0);
                for (int b = 0; b < count; b++) {
                    // the image zero-padded, [hp][wp][C], and its incoming gradient zero past the edge, [gh][gw][O]
                    int xAt = xOff + (i0 + b) * image, gAt = gOff + (i0 + b) * o * l;
                    channelsLast(x, xAt, channel, h, w, ph, pw, hp, wp, xin);
                    channelsLast(g, gAt, gradientChannel, oh, ow, 0, 0, gh, gw, gin);
                    if (biasSums != null) biasSums.add(kernels, chunk, g, gAt);
                    // B^T d B and A g A^T of every tile: rows of 16 [tiles, C] and 16 [tiles, O]
                    for (int ty = 0; ty < tilesY; ty++)
                        for (int tx = 0; tx < tilesX; tx++) {
                            int t = b * tiles + ty * tilesX + tx;
                            kernels.winogradInput(xin, (2 * ty * wp + 2 * tx) * c, wp * c, c, 2 * c, 0, c, v, t * cp, vStride);
                            int g0 = (2 * ty * gw + 2 * tx) * o;
                            kernels.winogradGradient(gin, g0, g0 + gw * o, o, o, dm, t * op, mStride);
                        }
                }
                // dU_xi += dM_xi^T V_xi over the batch's tiles, one register tile of [O, C] at a time; the
                // chunk's first batch writes its tiles in place (most chunks of small outputs have one batch)
                boolean first = i0 == from;
                for (int xi = 0; xi < 16; xi++)
                    for (int r0 = 0; r0 < op; r0 += mr)
                        for (int c0 = 0; c0 < cp; c0 += nr) {
                            int at = (chunk * 16 + xi) * uSize + r0 * cp + c0;
                            if (first) {
                                kernels.gemmTileStrided(dm, xi * mStride + r0, op, v, xi * vStride + c0, cp, count * tiles, partial, at, cp);
                                continue;
                            }
                            kernels.gemmTileStrided(dm, xi * mStride + r0, op, v, xi * vStride + c0, cp, count * tiles, product, 0, nr);
                            for (int r = 0; r < mr; r++) kernels.accumulate(ReduceOp.SUM, partial, at + r * cp, product, r * nr, nr);
                        }
            }
        });
        if (biasSums != null) biasSums.total(gradB, bOff);
        // the chunks in order, then G^T dU G per channel pair
        ConvKernels.sumChunks(kernels, parallel, partial, chunks, 16 * uSize, 16 * uSize, partial, 0);
        float[] t = new float[12]; // G^T dU, 3 x 4
        for (int r = 0; r < o; r++)
            for (int q = 0; q < c; q++) {
                int at = r * cp + q;
                for (int j = 0; j < 4; j++) {
                    float u0 = partial[j * uSize + at], u1 = partial[(4 + j) * uSize + at];
                    float u2 = partial[(8 + j) * uSize + at], u3 = partial[(12 + j) * uSize + at];
                    t[j] = u0 + 0.5f * (u1 + u2);
                    t[4 + j] = 0.5f * (u1 - u2);
                    t[8 + j] = 0.5f * (u1 + u2) + u3;
                }
                int out = wOff + (r * c + q) * 9;
                for (int i = 0; i < 3; i++) {
                    float t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
                    gradW[out + 3 * i] = t0 + 0.5f * (t1 + t2);
                    gradW[out + 3 * i + 1] = 0.5f * (t1 - t2);
                    gradW[out + 3 * i + 2] = 0.5f * (t1 + t2) + t3;
                }
            }
    }

    /**
     * An image's planes (channel c's at src[at + channel[c]], height x width) as dst [rows][cols][C],
     * shifted by (top, left): dst's position (py, px) holds the planes' (py - top, px - left), zero
     * outside them.
     */
    private void channelsLast(float[] src, int at, int[] channel, int height, int width, int top, int left, int rows,
                              int cols, float[] dst) {
        int channels = channel.length;
        for (int py = 0; py < rows; py++)
            for (int px = 0; px < cols; px++) {
                int yy = py - top, xx = px - left, d = (py * cols + px) * channels;
                if (yy < 0 || yy >= height || xx < 0 || xx >= width) Arrays.fill(dst, d, d + channels, 0f);
                else kernels.gather(src, at + yy * width + xx, channel, dst, d, channels);
            }
    }

    /**
     * G w G^T of each (output, input) channel pair, packed for the register tile: 16 matrices
     * [M rounded to mr, K] in mr-row slivers (as {@link ShiftedConvolution} packs its weights).
     * With {@code flip} the window is read backwards and the channel axes swapped (M = C, K = O:
     * the input gradient's weight). Rows of G: (1, 0, 0), (1/2, 1/2, 1/2), (1/2, -1/2, 1/2), (0, 0, 1).
     */
    private float[] transformWeights(float[] w, int wOff, int o, int c, boolean flip) {
        int m = flip ? c : o, k = flip ? o : c, size = Gemm.roundUp(m, mr) * k;
        float[] u = new float[16 * size];
        float[] t = new float[12]; // G w, 4 x 3
        for (int r = 0; r < m; r++)
            for (int q = 0; q < k; q++) {
                int at = wOff + (flip ? q * c + r : r * c + q) * 9;
                for (int j = 0; j < 3; j++) {
                    float w0 = tap(w, at, 0, j, flip), w1 = tap(w, at, 1, j, flip), w2 = tap(w, at, 2, j, flip);
                    t[j] = w0;
                    t[3 + j] = 0.5f * (w0 + w1 + w2);
                    t[6 + j] = 0.5f * (w0 - w1 + w2);
                    t[9 + j] = w2;
                }
                int base = r / mr * mr * k + r % mr + q * mr;
                for (int i = 0; i < 4; i++) {
                    float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
                    u[(4 * i) * size + base] = t0;
                    u[(4 * i + 1) * size + base] = 0.5f * (t0 + t1 + t2);
                    u[(4 * i + 2) * size + base] = 0.5f * (t0 - t1 + t2);
                    u[(4 * i + 3) * size + base] = t2;
                }
            }
        return u;
    }

    private static float tap(float[] w, int at, int i, int j, boolean flip) {
        return flip ? w[at + (2 - i) * 3 + (2 - j)] : w[at + i * 3 + j];
    }

    /**
     * out [N, M, OH, OW] = the 3x3 convolution of src [N, K, H, W], zero-padded by (ph, pw), with
     * the transformed weights u (16 packed [M, K]), plus bias.
     */
    private void convolve(float[] src, int srcOff, int n, int k, int h, int w, int ph, int pw, float[] u, int m,
                          float[] bias, int bOff, float[] out, int outOff, int oh, int ow) {
        int tilesX = (ow + 1) / 2, tilesY = (oh + 1) / 2, rowTiles = tilesX * lanes;
        int band = 1;
        while (band < tilesY && (band * rowTiles < MIN_BAND_TILES || band * rowTiles % nr != 0)) band++;
        int bandRows = band, bands = (tilesY + band - 1) / band, groups = (n + lanes - 1) / lanes;
        // a gathered row: (tilesX + 1) column pairs, even columns then odd ones, lanes floats each
        int half = (tilesX + 1) * lanes, rowLength = 2 * half, inputRows = 2 * band + 2, gatheredSize = k * inputRows * rowLength;
        int mRows = Gemm.roundUp(m, mr), uSize = mRows * k, vStride = k * nr + SKEW, pStride = mRows * nr + SKEW;
        int image = k * h * w, outImage = m * oh * ow;
        parallel.forEach(groups * bands, task -> {
            int n0 = task / bands * lanes, count = Math.min(lanes, n - n0);
            int ty0 = task % bands * bandRows, rows = Math.min(bandRows, tilesY - ty0), tiles = rows * rowTiles;
            // lane offsets of the group's images (lanes past the batch read its first image: their outputs are dropped)
            int[] lane = new int[lanes], outLane = new int[lanes];
            for (int i = 0; i < count; i++) {
                lane[i] = i * image;
                outLane[i] = i * outImage;
            }
            // the band's padded input rows, [K][2*rows + 2][even, odd columns][lanes]: the image's
            // columns gathered, the padding (rows outside the image, columns left and right of it) zero
            float[] in = ConvKernels.buffer(gathered, gatheredSize);
            for (int c = 0; c < k; c++)
                for (int r = 0; r < 2 * rows + 2; r++) {
                    int y = 2 * ty0 + r - ph, to = (c * inputRows + r) * rowLength;
                    if (y < 0 || y >= h) {
                        Arrays.fill(in, to, to + rowLength, 0f);
                        continue;
                    }
                    int from = srcOff + n0 * image + (c * h + y) * w;
                    for (int px = 0; px < 2 * (tilesX + 1); px++) {
                        int xx = px - pw, at = to + (px & 1) * half + (px >> 1) * lanes;
                        if (xx < 0 || xx >= w) Arrays.fill(in, at, at + lanes, 0f);
                        else kernels.gather(src, from + xx, lane, in, at, lanes);
                    }
                }
            float[] v = ConvKernels.buffer(transformed, 16 * vStride), p = ConvKernels.buffer(products, 16 * pStride);
            float[] y = new float[4 * nr];
            for (int t0 = 0; t0 < tiles; t0 += nr) {
                // B^T d B of the sliver's tiles (tile t = (row, column, lane)) for every channel: 16 packed [K, NR]
                for (int t = t0, end = Math.min(tiles, t0 + nr); t < end; ) {
                    int r = t / rowTiles, e = t % rowTiles, len = Math.min(end - t, rowTiles - e);
                    for (int c = 0; c < k; c++) {
                        kernels.winogradInput(in, (c * inputRows + 2 * r) * rowLength, rowLength, half, lanes, e, len,
                                v, c * nr + t - t0, vStride);
                    }
                    t += len;
                }
                // (tiles past the band's last, in its last sliver, keep earlier values: their columns are never read)
                for (int xi = 0; xi < 16; xi++)
                    for (int r0 = 0; r0 < mRows; r0 += mr) {
                        kernels.gemmTile(u, xi * uSize + r0 * k, v, xi * vStride, k, p, xi * pStride + r0 * nr, nr);
                    }
                // A^T M A per output channel, scattered to the images as 2x2 outputs
                for (int ch = 0; ch < m; ch++) {
                    kernels.winogradOutput(p, ch * nr, pStride, nr, y, 0);
                    float b = bias == null ? 0f : bias[bOff + ch];
                    for (int q = 0; q < nr && t0 + q < tiles; q += lanes) {
                        int t = t0 + q, oy = 2 * (ty0 + t / rowTiles), ox = 2 * (t % rowTiles / lanes);
                        int at = outOff + n0 * outImage + (ch * oh + oy) * ow + ox;
                        kernels.scatter(y, q, b, out, at, outLane, count);
                        if (ox + 1 < ow) kernels.scatter(y, nr + q, b, out, at + 1, outLane, count);
                        if (oy + 1 < oh) {
                            kernels.scatter(y, 2 * nr + q, b, out, at + ow, outLane, count);
                            if (ox + 1 < ow) kernels.scatter(y, 3 * nr + q, b, out, at + ow + 1, outLane, count);
                        }
                    }
                }
            }
        });
    }
}
