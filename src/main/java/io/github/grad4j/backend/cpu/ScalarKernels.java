package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.UnaryOp;

/**
 * Plain-Java float32 loops, used when jdk.incubator.vector is absent. The GEMM tile uses
 * {@link Math#fma} in the same order as the vector tile, so both give bitwise identical products.
 */
final class ScalarKernels implements Kernels {
    private static final int MR = 4;
    private static final int NR = 16;

    @Override
    public String describe() {
        return "scalar fallback (no jdk.incubator.vector), GEMM tile " + MR + "x" + NR;
    }

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    @Override
    public void convolvePlaneWeights(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] g, int gOff,
                                     int oh, int ow, float[] dw, int dwOff) {
        for (int t = 0; t < taps; t++) {
            float acc = 0f;
            for (int r = 0; r < oh; r++) {
                int rowIn = inOff + offsets[t] + r * rowStride, rowG = gOff + r * ow;
                for (int c = 0; c < ow; c++) acc = Math.fma(g[rowG + c], in[rowIn + c], acc);
            }
            dw[dwOff + t] += acc;
        }
    }

    @Override
    public int lanes() {
        return 1;
    }

    @Override
    public void convolvePlane(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] w, int wOff,
                              boolean addBias, float bias, float[] out, int oOff, int oh, int ow) {
        for (int r = 0; r < oh; r++) {
            int rowIn = inOff + r * rowStride, rowOut = oOff + r * ow;
            for (int c = 0; c < ow; c++) {
                float acc = 0f;
                for (int t = 0; t < taps; t++) acc = Math.fma(w[wOff + t], in[rowIn + offsets[t] + c], acc);
                out[rowOut + c] = addBias ? acc + bias : acc;
            }
        }
    }

    @Override
    public void gemmTile(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc) {
        gemmTileStrided(a, aOff, MR, b, bOff, NR, kc, c, cOff, ldc);
    }

    @Override
    public void gemmTileStrided(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc, float[] c, int cOff, int ldc) {
        float[] acc = new float[MR * NR];
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * ldb;
            for (int r = 0; r < MR; r++) {
                float av = a[aOff + p * lda + r];
                for (int j = 0; j < NR; j++) acc[r * NR + j] = Math.fma(av, b[bi + j], acc[r * NR + j]);
            }
        }
        for (int r = 0; r < MR; r++) {
            for (int j = 0; j < NR; j++) {
                int ci = cOff + r * ldc + j;
                c[ci] = acc[r * NR + j];
            }
        }
    }

    @Override
    public int weightTileRows() {
        return MR;
    }

    @Override
    public int weightTileColumns() {
        return NR;
    }

    @Override
    public void packWindows(float[] x, int xOff, int[] offsets, int k, float[] dst) {
        for (int p = 0; p < k; p++) System.arraycopy(x, xOff + offsets[p], dst, p * NR, NR);
    }

    @Override
    public void gather(float[] src, int sOff, int[] index, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) dst[dOff + i] = src[sOff + index[i]];
    }

    @Override
    public void scatter(float[] src, int sOff, float add, float[] dst, int dOff, int[] index, int n) {
        for (int i = 0; i < n; i++) dst[dOff + index[i]] = src[sOff + i] + add;
    }

    @Override
    public void winogradInput(float[] in, int row0, int rowLength, int half, int step, int e0, int len, float[] v, int dst,
                              int stride) {
        winogradInputLoop(in, row0, rowLength, half, step, e0, len, v, dst, stride);
    }

    /** The input transform's plain loop (also the vector kernels' tail). */
    static void winogradInputLoop(float[] in, int row0, int rowLength, int half, int step, int e0, int len, float[] v,
                                  int dst, int stride) {
        int r0 = row0, r1 = row0 + rowLength, r2 = row0 + 2 * rowLength, r3 = row0 + 3 * rowLength;
        for (int e = e0; e < e0 + len; e++) {
            // the tile's four columns: even and odd at its offset, even and odd one column pair on
            int c0 = e, c1 = half + e, c2 = e + step, c3 = half + e + step;
            // B^T d: the four row combinations of each column
            float a00 = in[r0 + c0] - in[r2 + c0], a01 = in[r0 + c1] - in[r2 + c1], a02 = in[r0 + c2] - in[r2 + c2], a03 = in[r0 + c3] - in[r2 + c3];
            float a10 = in[r1 + c0] + in[r2 + c0], a11 = in[r1 + c1] + in[r2 + c1], a12 = in[r1 + c2] + in[r2 + c2], a13 = in[r1 + c3] + in[r2 + c3];
            float a20 = in[r2 + c0] - in[r1 + c0], a21 = in[r2 + c1] - in[r1 + c1], a22 = in[r2 + c2] - in[r1 + c2], a23 = in[r2 + c3] - in[r1 + c3];
            float a30 = in[r1 + c0] - in[r3 + c0], a31 = in[r1 + c1] - in[r3 + c1], a32 = in[r1 + c2] - in[r3 + c2], a33 = in[r1 + c3] - in[r3 + c3];
            // (B^T d) B: the same combinations of each row's columns
            int at = dst + e - e0;
            storeBt(a00, a01, a02, a03, v, at, stride);
            storeBt(a10, a11, a12, a13, v, at + 4 * stride, stride);
            storeBt(a20, a21, a22, a23, v, at + 8 * stride, stride);
            storeBt(a30, a31, a32, a33, v, at + 12 * stride, stride);
        }
    }

    /** B^T's rows applied to d0..d3, stored stride apart: d0 - d2, d1 + d2, d2 - d1, d1 - d3. */
    private static void storeBt(float d0, float d1, float d2, float d3, float[] v, int at, int stride) {
        v[at] = d0 - d2;
        v[at + stride] = d1 + d2;
        v[at + 2 * stride] = d2 - d1;
        v[at + 3 * stride] = d1 - d3;
    }

    @Override
    public void winogradOutput(float[] p, int at, int stride, int len, float[] y, int yOff) {
        winogradOutputLoop(p, at, stride, 0, len, y, yOff);
    }

    @Override
    public void winogradGradient(float[] g, int r0, int r1, int step, int len, float[] m, int dst, int stride) {
        winogradGradientLoop(g, r0, r1, step, 0, len, m, dst, stride);
    }

    /** The gradient transform's plain loop over e0 .. len (also the vector kernels' tail). */
    static void winogradGradientLoop(float[] g, int r0, int r1, int step, int e0, int len, float[] m, int dst, int stride) {
        for (int e = e0; e < len; e++) {
            float g00 = g[r0 + e], g01 = g[r0 + step + e], g10 = g[r1 + e], g11 = g[r1 + step + e];
            // A g: rows g0, g0 + g1, g0 - g1, -g1 (of the two columns)
            float h00 = g00, h01 = g01, h10 = g00 + g10, h11 = g01 + g11, h20 = g00 - g10, h21 = g01 - g11, h30 = -g10, h31 = -g11;
            // (A g) A^T: columns h0, h0 + h1, h0 - h1, -h1 of each row
            int at = dst + e;
            storeA(h00, h01, m, at, stride);
            storeA(h10, h11, m, at + 4 * stride, stride);
            storeA(h20, h21, m, at + 8 * stride, stride);
            storeA(h30, h31, m, at + 12 * stride, stride);
        }
    }

    /** A's rows applied to h0, h1, stored stride apart: h0, h0 + h1, h0 - h1, -h1. */
    private static void storeA(float h0, float h1, float[] m, int at, int stride) {
        m[at] = h0;
        m[at + stride] = h0 + h1;
        m[at + 2 * stride] = h0 - h1;
        m[at + 3 * stride] = -h1;
    }

    /** The output transform's plain loop over tiles e0 .. len (also the vector kernels' tail). */
    static void winogradOutputLoop(float[] p, int at, int stride, int e0, int len, float[] y, int yOff) {
        for (int e = e0; e < len; e++) {
            int q = at + e;
            // along columns: s0 = m0 + m1 + m2, s1 = m1 - m2 - m3 for each of the four rows
            float s00 = p[q] + p[q + stride] + p[q + 2 * stride], s01 = p[q + stride] - p[q + 2 * stride] - p[q + 3 * stride];
            float s10 = p[q + 4 * stride] + p[q + 5 * stride] + p[q + 6 * stride];
            float s11 = p[q + 5 * stride] - p[q + 6 * stride] - p[q + 7 * stride];
            float s20 = p[q + 8 * stride] + p[q + 9 * stride] + p[q + 10 * stride];
            float s21 = p[q + 9 * stride] - p[q + 10 * stride] - p[q + 11 * stride];
            float s30 = p[q + 12 * stride] + p[q + 13 * stride] + p[q + 14 * stride];
            float s31 = p[q + 13 * stride] - p[q + 14 * stride] - p[q + 15 * stride];
            y[yOff + e] = s00 + s10 + s20;
            y[yOff + len + e] = s01 + s11 + s21;
            y[yOff + 2 * len + e] = s10 - s20 - s30;
            y[yOff + 3 * len + e] = s11 - s21 - s31;
        }
    }

    @Override
    public void convWeightTile(float[] x, int[] rows, float[] g, int gOff, int ldg, int count, float[] c, int cOff, int ldc) {
        float[] acc = new float[MR * NR];
        for (int r = 0; r < MR; r++) System.arraycopy(c, cOff + r * ldc, acc, r * NR, NR);
        for (int p = 0; p < count; p++) {
            int bi = gOff + p * ldg;
            for (int r = 0; r < MR; r++) {
                float av = x[rows[r] + p];
                for (int j = 0; j < NR; j++) acc[r * NR + j] = Math.fma(av, g[bi + j], acc[r * NR + j]);
            }
        }
        for (int r = 0; r < MR; r++) System.arraycopy(acc, r * NR, c, cOff + r * ldc, NR);
    }

    /** The float32 result of a binary op; agrees with the reference's float64 result rounded. */
    static float binary(BinaryOp op, float x, float y) {
        switch (op) {
            case ADD: return x + y;
            case SUB: return x - y;
            case MUL: return x * y;
            case DIV: return x / y;
            case MAX: return Math.max(x, y);
            case MIN: return Math.min(x, y);
            case GT: return x > y ? 1f : 0f;
            case GE: return x >= y ? 1f : 0f;
            case LT: return x < y ? 1f : 0f;
            case LE: return x <= y ? 1f : 0f;
            case EQ: return x == y ? 1f : 0f;
            case NE: return x != y ? 1f : 0f;
            case RELU_BACKWARD: return y > 0 ? x : 0f;
            default: return (float) io.github.grad4j.backend.reference.ReferenceBackend.binary(op, x, y);
        }
    }

    static float combine(ReduceOp op, float acc, float x) {
        switch (op) {
            case SUM: return acc + x;
            case MAX: return Math.max(acc, x);
            default: return Math.min(acc, x);
        }
    }

    @Override
    public boolean binary(BinaryOp op, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int o, int n) {
        for (int i = 0; i < n; i++) out[o + i] = binary(op, x[xo + i * xs], y[yo + i * ys]);
        return true;
    }

    @Override
    public boolean unary(UnaryOp op, float[] x, int xo, float[] out, int o, int n, float a, float b) {
        return false;
    }

    @Override
    public float reduce(ReduceOp op, float[] x, int xo, int n) {
        float r = op == ReduceOp.SUM ? 0f : x[xo];
        for (int i = 0; i < n; i++) r = combine(op, r, x[xo + i]);
        return r;
    }

    @Override
    public void accumulate(ReduceOp op, float[] acc, int ao, float[] x, int xo, int n) {
        for (int i = 0; i < n; i++) acc[ao + i] = combine(op, acc[ao + i], x[xo + i]);
    }

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void dots4(float[] a, int ao, float[] b, int bo, int bStride, int n, float[] out, int oo) {
        for (int j = 0; j < 4; j++) out[oo + j] = dot(a, ao, b, bo + j * bStride, n);
    }

    @Override
    public float centeredDot(float[] a, int ao, float[] x, int xo, float m, int n) {
        return centeredDot(a, ao, x, xo, m, 0, n, 0f);
    }

    /** s plus the centred products of elements [from, to), added in order (also the vector loop's tail). */
    static float centeredDot(float[] a, int ao, float[] x, int xo, float m, int from, int to, float s) {
        for (int i = from; i < to; i++) {
            float c = x[xo + i] - m;
            s += (a == null ? c : a[ao + i]) * c;
        }
        return s;
    }

    @Override
    public void affineCentered(float[] x, int xo, float m, float scale, float[] g, int go, float gScale, float shift,
                               float[] out, int oo, int n) {
        affineCentered(x, xo, m, scale, g, go, gScale, shift, out, oo, 0, n);
    }

    /** {@link #affineCentered(float[], int, float, float, float[], int, float, float, float[], int, int)} for elements [from, to). */
    static void affineCentered(float[] x, int xo, float m, float scale, float[] g, int go, float gScale, float shift,
                               float[] out, int oo, int from, int to) {
        for (int i = from; i < to; i++) {
            float v = scale * (x[xo + i] - m);
            if (g != null) v += gScale * g[go + i];
            out[oo + i] = v + shift;
        }
    }

    @Override
    public void maxPool2x2(float[] x, int xo, int w, int[] topLeft, float[] out, int oo, int[] idx, int io) {
        maxPool2x2(x, xo, w, topLeft, 0, topLeft.length, out, oo, idx, io);
    }

    /** {@link #maxPool2x2(float[], int, int, int[], float[], int, int[], int)} for windows q in [from, to). */
    static void maxPool2x2(float[] x, int xo, int w, int[] topLeft, int from, int to, float[] out, int oo, int[] idx, int io) {
        for (int q = from; q < to; q++) {
            int at = topLeft[q], bestAt = at;
            float best = x[xo + at];
            float e = x[xo + at + 1];
            if (e > best || e != e) { best = e; bestAt = at + 1; }
            e = x[xo + at + w];
            if (e > best || e != e) { best = e; bestAt = at + w; }
            e = x[xo + at + w + 1];
            if (e > best || e != e) { best = e; bestAt = at + w + 1; }
            out[oo + q] = best;
            idx[io + q] = bestAt;
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    @Override
    public float expShiftSum(float[] x, int xo, float shift, float[] out, int oo, int n) {
        float s = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - shift);
            out[oo + i] = e;
            s += e;
        }
        return s;
    }

    @Override
    public void adam(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
                     float beta1, float beta2, float l2, float decay, float bc2Sqrt, float eps, float stepSize) {
        float c1 = 1 - beta1, c2 = 1 - beta2;
        for (int i = 0; i < n; i++) {
            float gi = g[go + i];
            if (l2 != 0) gi = gi + p[po + i] * l2;
            float mi = m[mo + i] * beta1 + gi * c1;
            float vi = v[vo + i] * beta2 + gi * gi * c2;
            m[mo + i] = mi;
            v[vo + i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            float pi = decay != 1 ? p[po + i] * decay : p[po + i];
            p[po + i] = pi - mi / denom * stepSize;
        }
    }
}
