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
    public void gemmTile(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc) {
        float[] acc = new float[MR * NR];
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR;
            for (int r = 0; r < MR; r++) {
                float av = a[aOff + p * MR + r];
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
