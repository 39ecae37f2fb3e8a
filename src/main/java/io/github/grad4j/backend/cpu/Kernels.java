package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.UnaryOp;

/**
 * The innermost float32 loops of the CPU backend, in two implementations: {@link VectorKernels}
 * (jdk.incubator.vector; only loaded when that module is present) and {@link ScalarKernels}.
 * Everything around them (blocking, packing, threading, strides) is shared.
 */
interface Kernels {

    /** What runs, for benchmark and log lines. */
    String describe();

    /** Rows of the GEMM register tile. */
    int mr();

    /** Columns of the GEMM register tile. */
    int nr();

    /**
     * One register tile: c[cOff + r*ldc + j] = sum_p a[aOff + p*mr + r] * b[bOff + p*nr + j] for
     * r &lt; mr, j &lt; nr, p &lt; kc, accumulating from zero over p in increasing order with fused
     * multiply-add. (No "add to c" variant: branching on the accumulators after the loop made C2
     * box the vectors, 15x slower; callers add a stored tile instead.)
     */
    void gemmTile(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc);

    /**
     * {@link #gemmTile} with A's steps lda apart and B's ldb apart: c[cOff + r*ldc + j] =
     * sum_p a[aOff + p*lda + r] * b[bOff + p*ldb + j] (gemmTile is lda = mr, ldb = nr), for
     * operands stored [K, rows] and [K, columns] without packing.
     */
    void gemmTileStrided(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc, float[] c, int cOff, int ldc);

    /** Rows of the weight-gradient tile {@link #convWeightTile}. */
    int weightTileRows();

    /** Columns of the weight-gradient tile {@link #convWeightTile}. */
    int weightTileColumns();

    /**
     * One NR-wide sliver of a stride-1 convolution's unfolded columns, packed for {@link #gemmTile}:
     * dst[p*nr + j] = x[xOff + offsets[p] + j] for p &lt; k, j &lt; nr (row p of the columns is a
     * shifted window of the zero-padded image at offsets[p]).
     */
    void packWindows(float[] x, int xOff, int[] offsets, int k, float[] dst);

    /**
     * A register tile of a stride-1 convolution's transposed weight gradient, added to c:
     * c[cOff + r*ldc + j] += sum_p x[rows[r] + p] * g[gOff + p*ldg + j] for r &lt;
     * {@link #weightTileRows()}, j &lt; {@link #weightTileColumns()}, p &lt; count, over p in
     * increasing order with fused multiply-add (row r of A is a shifted window of the padded image
     * starting at rows[r]; g holds the incoming gradient transposed).
     */
    void convWeightTile(float[] x, int[] rows, float[] g, int gOff, int ldg, int count, float[] c, int cOff, int ldc);

    /** Float lanes of one vector (1 for the scalar kernels): the narrowest row {@link #convolvePlane} takes. */
    int lanes();

    /**
     * One output plane [oh, ow] of a stride-1 convolution, straight from zero-padded input planes:
     * out[oOff + r*ow + c] = sum over t &lt; taps of w[wOff + t] * in[inOff + offsets[t] + r*rowStride + c],
     * accumulated from zero over t in increasing order with fused multiply-add, then plus bias when
     * addBias: {@link #gemmTile}'s arithmetic on unfolded columns followed by the bias, so the same
     * bits. ow &gt;= {@link #lanes()} (a row's last vector may overlap the one before it).
     */
    void convolvePlane(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] w, int wOff,
                       boolean addBias, float bias, float[] out, int oOff, int oh, int ow);

    /**
     * The adjoint of {@link #convolvePlane} in its weights, added to dw: dw[dwOff + t] += sum over
     * r &lt; oh, c &lt; ow of g[gOff + r*ow + c] * in[inOff + offsets[t] + r*rowStride + c] for t &lt;
     * taps (float lanes, then a fixed-order lane sum). ow &gt;= {@link #lanes()}.
     */
    void convolvePlaneWeights(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] g, int gOff,
                              int oh, int ow, float[] dw, int dwOff);

    /** dst[dOff + i] = src[sOff + index[i]] for i &lt; n (the vector kernels use gathers). */
    void gather(float[] src, int sOff, int[] index, float[] dst, int dOff, int n);

    /** dst[dOff + index[i]] = src[sOff + i] + add for i &lt; n (the vector kernels use scatters). */
    void scatter(float[] src, int sOff, float add, float[] dst, int dOff, int[] index, int n);

    /**
     * Winograd F(2x2, 3x3)'s input transform B^T d B for the tiles e0 .. e0+len of one tile row
     * (see {@link WinogradConvolution}): d's four rows start at row0, rowLength apart, each its
     * even columns then (half further) its odd columns, with step floats per column; tile e's
     * first column is at e. Result xi = 4i + j goes to v[dst + xi*stride + e - e0]. Rows of B^T:
     * (1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1).
     */
    void winogradInput(float[] in, int row0, int rowLength, int half, int step, int e0, int len, float[] v, int dst,
                       int stride);

    /**
     * Winograd F(2x2, 3x3)'s output transform A^T M A for the tiles at p[at .. at + len) of the 16
     * products (stride apart): y[yOff + k*len + e] for k = top-left, top-right, bottom-left,
     * bottom-right output. Rows of A^T: (1, 1, 1, 0), (0, 1, -1, -1).
     */
    void winogradOutput(float[] p, int at, int stride, int len, float[] y, int yOff);

    /**
     * Winograd F(2x2, 3x3)'s transform of an incoming gradient tile for the weight gradient,
     * A g A^T (the adjoint of {@link #winogradOutput}): g's 2x2 values are at r0 + e, r0 + step + e
     * (top row) and r1 + e, r1 + step + e (bottom row) for e &lt; len; result xi goes to
     * m[dst + xi*stride + e]. Rows of A: (1, 0), (1, 1), (1, -1), (0, -1).
     */
    void winogradGradient(float[] g, int r0, int r1, int step, int len, float[] m, int dst, int stride);

    /**
     * out[o + i] = op(x[xo + i*xs], y[yo + i*ys]) for i &lt; n, where xs and ys are 0 or 1.
     * Returns false (having written nothing) when this op has no fast loop.
     */
    boolean binary(BinaryOp op, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int o, int n);

    /** out[o + i] = op(x[xo + i]) for i &lt; n; false (nothing written) when this op has no fast loop. */
    boolean unary(UnaryOp op, float[] x, int xo, float[] out, int o, int n, float a, float b);

    /** SUM, MAX or MIN of x[xo .. xo + n), n &gt;= 1. MAX/MIN propagate NaN. */
    float reduce(ReduceOp op, float[] x, int xo, int n);

    /** acc[ao + i] = op(acc[ao + i], x[xo + i]) for i &lt; n (SUM adds; MAX/MIN propagate NaN). */
    void accumulate(ReduceOp op, float[] acc, int ao, float[] x, int xo, int n);

    /** sum of a[ao + i] * b[bo + i] for i &lt; n (lanes, then a fixed-order lane sum). */
    float dot(float[] a, int ao, float[] b, int bo, int n);

    /**
     * Four {@link #dot}s of one vector a with rows of b bStride apart, each with exactly dot's
     * arithmetic (so the same bits): out[oo + j] = dot(a, ao, b, bo + j*bStride, n) for j &lt; 4.
     * a is read once for the four, and the four sums are independent chains.
     */
    void dots4(float[] a, int ao, float[] b, int bo, int bStride, int n, float[] out, int oo);

    /**
     * sum of a[ao + i] * (x[xo + i] - m) for i &lt; n, or of (x[xo + i] - m)^2 when a is null (lanes,
     * then a fixed-order lane sum): batch norm's centred sums without writing the centred values.
     */
    float centeredDot(float[] a, int ao, float[] x, int xo, float m, int n);

    /**
     * out[oo + i] = scale (x[xo + i] - m) + gScale g[go + i] + shift for i &lt; n (no g term when g is
     * null): batch norm's normalization and its input gradient, one pass each.
     */
    void affineCentered(float[] x, int xo, float m, float scale, float[] g, int go, float gScale, float shift,
                        float[] out, int oo, int n);

    /** y[yo + i] += alpha * x[xo + i] for i &lt; n. */
    void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n);

    /**
     * Max pooling of one plane (row length w) over 2x2 windows whose top-left corners are
     * {@code topLeft[q]} (plane-relative): out[oo + q] is the window's maximum and idx[io + q] its
     * plane-relative position. Windows are read row by row; a strictly greater value or a NaN takes
     * over (the reference's rule, so ties and NaN pick the same element).
     */
    void maxPool2x2(float[] x, int xo, int w, int[] topLeft, float[] out, int oo, int[] idx, int io);

    /** out[oo + i] = exp(x[xo + i] - shift) for i &lt; n; returns their sum. out may be x. */
    float expShiftSum(float[] x, int xo, float shift, float[] out, int oo, int n);

    /**
     * One Adam step over n contiguous elements starting at each offset (see Backend.adamStep):
     * decay is 1 - lr wd (AdamW, else 1), l2 the weight decay added to the gradient (Adam, else 0).
     */
    void adam(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
              float beta1, float beta2, float l2, float decay, float bc2Sqrt, float eps, float stepSize);
}
