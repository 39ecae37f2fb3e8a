package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Float32 loops on {@code FloatVector.SPECIES_PREFERRED} (16 lanes with AVX-512). Only loaded
 * (reflectively, by {@link CpuBackend}) when the jdk.incubator.vector module is present.
 */
final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());
    private static final int MR = 8;
    private static final int NR = 2 * L;
    /** The convolution weight-gradient tile: 6 rows of 4 vectors. */
    private static final int WR = 6, WC = 4 * L;

    @Override
    public String describe() {
        return "Vector API, " + S + " (" + L + " float lanes), GEMM tile " + MR + "x" + NR;
    }

    @Override
    public int mr() {
        return MR;
    }

    @Override
    public int nr() {
        return NR;
    }

    private static boolean isOneChannel3x3(int[] offsets, int taps, int rowStride) {
        if (taps != 9) return false;
        for (int t = 0; t < 9; t++) if (offsets[t] != offsets[0] + (t / 3) * rowStride + t % 3) return false;
        return true;
    }

    /**
     * {@link #convolvePlane} for a 3x3 window over one channel (offsets i*rowStride + j; the first
     * layer of an image network): each input row is loaded once per column block and feeds the
     * three output rows it belongs to, whose accumulators are in flight together (output row r
     * still takes its taps in increasing order: input row r, then r+1, then r+2), with the nine
     * weights in registers. Against nine loads per output vector, a third of the loads; measured
     * about 4x faster than the loop over taps.
     */
    private static void convolvePlane3x3(float[] in, int inOff, int rowStride, float[] w, int wOff,
                                         boolean addBias, float bias, float[] out, int oOff, int oh, int ow) {
        FloatVector w00 = FloatVector.broadcast(S, w[wOff]), w01 = FloatVector.broadcast(S, w[wOff + 1]);
        FloatVector w02 = FloatVector.broadcast(S, w[wOff + 2]), w10 = FloatVector.broadcast(S, w[wOff + 3]);
        FloatVector w11 = FloatVector.broadcast(S, w[wOff + 4]), w12 = FloatVector.broadcast(S, w[wOff + 5]);
        FloatVector w20 = FloatVector.broadcast(S, w[wOff + 6]), w21 = FloatVector.broadcast(S, w[wOff + 7]);
        FloatVector w22 = FloatVector.broadcast(S, w[wOff + 8]);
        // without a bias, + 0: a chain of fma from +0 never gives -0, so adding +0 changes no bit (and a
        // branch on vectors would box them)
        FloatVector zero = FloatVector.zero(S), shift = FloatVector.broadcast(S, addBias ? bias : 0f);
        // Two column blocks at a time, a and b (the same block twice when a row has one): each output
        // is a chain of 9 dependent multiply-adds, and two independent chains keep the FMA units
        // busier. The last block of a row ends at the row's end, overlapping the one before. Each
        // window row's three taps are spelled out (w_i2 (w_i1 (w_i0 x + acc))): a helper taking
        // vectors was not always inlined, and vectors passed to a call are boxed (10x slower).
        for (int c0 = 0; c0 < ow; c0 += 2 * L) {
            int a = inOff + Math.min(c0, ow - L), b = inOff + Math.min(c0 + L, ow - L);
            int oa = oOff + Math.min(c0, ow - L), ob = oOff + Math.min(c0 + L, ow - L);
            // input rows 0 and 1 start output rows 0 and 1 (fma from +0, as the GEMM: not mul)
            FloatVector olderA = w02.fma(FloatVector.fromArray(S, in, a + 2), w01.fma(FloatVector.fromArray(S, in, a + 1), w00.fma(FloatVector.fromArray(S, in, a), zero)));
            FloatVector olderB = w02.fma(FloatVector.fromArray(S, in, b + 2), w01.fma(FloatVector.fromArray(S, in, b + 1), w00.fma(FloatVector.fromArray(S, in, b), zero)));
            a += rowStride;
            b += rowStride;
            FloatVector newerA = w02.fma(FloatVector.fromArray(S, in, a + 2), w01.fma(FloatVector.fromArray(S, in, a + 1), w00.fma(FloatVector.fromArray(S, in, a), zero)));
            FloatVector newerB = w02.fma(FloatVector.fromArray(S, in, b + 2), w01.fma(FloatVector.fromArray(S, in, b + 1), w00.fma(FloatVector.fromArray(S, in, b), zero)));
            olderA = w12.fma(FloatVector.fromArray(S, in, a + 2), w11.fma(FloatVector.fromArray(S, in, a + 1), w10.fma(FloatVector.fromArray(S, in, a), olderA)));
            olderB = w12.fma(FloatVector.fromArray(S, in, b + 2), w11.fma(FloatVector.fromArray(S, in, b + 1), w10.fma(FloatVector.fromArray(S, in, b), olderB)));
            int r = 0;
            for (; r + 2 < oh; r++) {
                // input row r + 2: the last taps of output row r, the middle of r + 1, the first of r + 2
                // (no branches in the loop: vectors carried across a conditional update get boxed)
                a += rowStride;
                b += rowStride;
                FloatVector doneA = w22.fma(FloatVector.fromArray(S, in, a + 2), w21.fma(FloatVector.fromArray(S, in, a + 1), w20.fma(FloatVector.fromArray(S, in, a), olderA)));
                FloatVector doneB = w22.fma(FloatVector.fromArray(S, in, b + 2), w21.fma(FloatVector.fromArray(S, in, b + 1), w20.fma(FloatVector.fromArray(S, in, b), olderB)));
                olderA = w12.fma(FloatVector.fromArray(S, in, a + 2), w11.fma(FloatVector.fromArray(S, in, a + 1), w10.fma(FloatVector.fromArray(S, in, a), newerA)));
                olderB = w12.fma(FloatVector.fromArray(S, in, b + 2), w11.fma(FloatVector.fromArray(S, in, b + 1), w10.fma(FloatVector.fromArray(S, in, b), newerB)));
                newerA = w02.fma(FloatVector.fromArray(S, in, a + 2), w01.fma(FloatVector.fromArray(S, in, a + 1), w00.fma(FloatVector.fromArray(S, in, a), zero)));
                newerB = w02.fma(FloatVector.fromArray(S, in, b + 2), w01.fma(FloatVector.fromArray(S, in, b + 1), w00.fma(FloatVector.fromArray(S, in, b), zero)));
                doneA.add(shift).intoArray(out, oa + r * ow);
                doneB.add(shift).intoArray(out, ob + r * ow);
            }
            // the last two output rows (input rows oh and oh + 1); with one output row, only the first
            a += rowStride;
            b += rowStride;
            FloatVector doneA = w22.fma(FloatVector.fromArray(S, in, a + 2), w21.fma(FloatVector.fromArray(S, in, a + 1), w20.fma(FloatVector.fromArray(S, in, a), olderA)));
            FloatVector doneB = w22.fma(FloatVector.fromArray(S, in, b + 2), w21.fma(FloatVector.fromArray(S, in, b + 1), w20.fma(FloatVector.fromArray(S, in, b), olderB)));
            doneA.add(shift).intoArray(out, oa + r * ow);
            doneB.add(shift).intoArray(out, ob + r * ow);
            if (r + 1 < oh) {
                FloatVector lastA = w12.fma(FloatVector.fromArray(S, in, a + 2), w11.fma(FloatVector.fromArray(S, in, a + 1), w10.fma(FloatVector.fromArray(S, in, a), newerA)));
                FloatVector lastB = w12.fma(FloatVector.fromArray(S, in, b + 2), w11.fma(FloatVector.fromArray(S, in, b + 1), w10.fma(FloatVector.fromArray(S, in, b), newerB)));
                a += rowStride;
                b += rowStride;
                lastA = w22.fma(FloatVector.fromArray(S, in, a + 2), w21.fma(FloatVector.fromArray(S, in, a + 1), w20.fma(FloatVector.fromArray(S, in, a), lastA)));
                lastB = w22.fma(FloatVector.fromArray(S, in, b + 2), w21.fma(FloatVector.fromArray(S, in, b + 1), w20.fma(FloatVector.fromArray(S, in, b), lastB)));
                lastA.add(shift).intoArray(out, oa + (r + 1) * ow);
                lastB.add(shift).intoArray(out, ob + (r + 1) * ow);
            }
        }
    }

    @Override
    public void convolvePlaneWeights(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] g, int gOff,
                                     int oh, int ow, float[] dw, int dwOff) {
        if (taps == 9) {
            planeWeights9(in, inOff, rowStride, offsets, g, gOff, oh, ow, dw, dwOff);
            return;
        }
        int blocks = (ow + L - 1) / L;
        for (int t = 0; t < taps; t++) {
            FloatVector acc = FloatVector.zero(S);
            // one flat loop over (row, block): vectors carried across a nested loop were boxed
            for (int q = 0, end = oh * blocks; q < end; q++) {
                int r = q / blocks, c0 = (q - r * blocks) * L, c = Math.min(c0, ow - L);
                // the last block overlaps the one before: its first c0 - c lanes of g count as 0
                FloatVector gv = FloatVector.fromArray(S, g, gOff + r * ow + c).mul(FloatVector.fromArray(S, LATER_LANES, L - (c0 - c)));
                acc = gv.fma(FloatVector.fromArray(S, in, inOff + offsets[t] + r * rowStride + c), acc);
            }
            dw[dwOff + t] += sumLanes(acc);
        }
    }

    /**
     * LATER_LANES[L - s ..] as a vector: its first s lanes 0, the others 1 (L zeros, then L ones), to
     * multiply a block of g by so that lanes counted in the block before count as 0. (A blend with
     * a mask loaded from a boolean array was 7x slower on JDK 17.) A product with 0 is exact but
     * for an infinite g, where the sum is not finite anyway.
     */
    private static final float[] LATER_LANES = new float[2 * L];

    static {
        java.util.Arrays.fill(LATER_LANES, L, 2 * L, 1f);
    }

    /**
     * {@link #convolvePlaneWeights} for 9 taps (a 3x3 window over one channel), the nine sums in
     * registers: each block of g is loaded once for the nine taps, and the nine chains are
     * independent.
     */
    private static void planeWeights9(float[] in, int inOff, int rowStride, int[] offsets, float[] g, int gOff,
                                      int oh, int ow, float[] dw, int dwOff) {
        int o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5];
        int o6 = offsets[6], o7 = offsets[7], o8 = offsets[8];
        FloatVector zero = FloatVector.zero(S);
        FloatVector a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero, a8 = zero;
        // one flat loop over (row, block): vectors carried across a nested loop were boxed (20x slower)
        int blocks = (ow + L - 1) / L;
        for (int q = 0, end = oh * blocks; q < end; q++) {
            int r = q / blocks, c0 = (q - r * blocks) * L, c = Math.min(c0, ow - L), at = inOff + r * rowStride + c;
            // the last block overlaps the one before: its first c0 - c lanes of g count as 0
            FloatVector gv = FloatVector.fromArray(S, g, gOff + r * ow + c).mul(FloatVector.fromArray(S, LATER_LANES, L - (c0 - c)));
            a0 = gv.fma(FloatVector.fromArray(S, in, at + o0), a0);
            a1 = gv.fma(FloatVector.fromArray(S, in, at + o1), a1);
            a2 = gv.fma(FloatVector.fromArray(S, in, at + o2), a2);
            a3 = gv.fma(FloatVector.fromArray(S, in, at + o3), a3);
            a4 = gv.fma(FloatVector.fromArray(S, in, at + o4), a4);
            a5 = gv.fma(FloatVector.fromArray(S, in, at + o5), a5);
            a6 = gv.fma(FloatVector.fromArray(S, in, at + o6), a6);
            a7 = gv.fma(FloatVector.fromArray(S, in, at + o7), a7);
            a8 = gv.fma(FloatVector.fromArray(S, in, at + o8), a8);
        }
        dw[dwOff + 0] += sumLanes(a0);
        dw[dwOff + 1] += sumLanes(a1);
        dw[dwOff + 2] += sumLanes(a2);
        dw[dwOff + 3] += sumLanes(a3);
        dw[dwOff + 4] += sumLanes(a4);
        dw[dwOff + 5] += sumLanes(a5);
        dw[dwOff + 6] += sumLanes(a6);
        dw[dwOff + 7] += sumLanes(a7);
        dw[dwOff + 8] += sumLanes(a8);
    }

    @Override
    public int lanes() {
        return L;
    }

    @Override
    public void convolvePlane(float[] in, int inOff, int rowStride, int[] offsets, int taps, float[] w, int wOff,
                              boolean addBias, float bias, float[] out, int oOff, int oh, int ow) {
        if (isOneChannel3x3(offsets, taps, rowStride)) {
            convolvePlane3x3(in, inOff + offsets[0], rowStride, w, wOff, addBias, bias, out, oOff, oh, ow);
            return;
        }
        for (int r = 0; r < oh; r++) {
            int rowIn = inOff + r * rowStride, rowOut = oOff + r * ow;
            for (int c0 = 0; c0 < ow; c0 += L) {
                int c = Math.min(c0, ow - L); // the last vector ends at the row's end
                FloatVector acc = FloatVector.zero(S);
                for (int t = 0; t < taps; t++) {
                    acc = FloatVector.broadcast(S, w[wOff + t]).fma(FloatVector.fromArray(S, in, rowIn + offsets[t] + c), acc);
                }
                if (addBias) acc = acc.add(bias);
                acc.intoArray(out, rowOut + c);
            }
        }
    }

    @Override
    public void gemmTile(float[] a, int aOff, float[] b, int bOff, int kc, float[] c, int cOff, int ldc) {
        gemmTileStrided(a, aOff, MR, b, bOff, NR, kc, c, cOff, ldc);
    }

    @Override
    public void gemmTileStrided(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, int kc, float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S), c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0, ai = aOff, bi = bOff; p < kc; p++, ai += lda, bi += ldb) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector av;
            av = FloatVector.broadcast(S, a[ai + 0]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, a[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, a[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, a[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, a[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, a[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, a[ai + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, a[ai + 7]);
            c70 = av.fma(b0, c70);
            c71 = av.fma(b1, c71);
        }
        c00.intoArray(c, cOff + 0 * ldc);
        c01.intoArray(c, cOff + 0 * ldc + L);
        c10.intoArray(c, cOff + 1 * ldc);
        c11.intoArray(c, cOff + 1 * ldc + L);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + L);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + L);
        c40.intoArray(c, cOff + 4 * ldc);
        c41.intoArray(c, cOff + 4 * ldc + L);
        c50.intoArray(c, cOff + 5 * ldc);
        c51.intoArray(c, cOff + 5 * ldc + L);
        c60.intoArray(c, cOff + 6 * ldc);
        c61.intoArray(c, cOff + 6 * ldc + L);
        c70.intoArray(c, cOff + 7 * ldc);
        c71.intoArray(c, cOff + 7 * ldc + L);
    }

    @Override
    public void packWindows(float[] x, int xOff, int[] offsets, int k, float[] dst) {
        // NR = 2 lanes' worth per row. A register tile reading the windows in place through the
        // offsets ran ~13% slower than this copy plus gemmTile on its running pointer (the offset
        // table keeps C2 from hoisting the range checks of B's loads).
        for (int p = 0, d = 0; p < k; p++, d += NR) {
            int src = xOff + offsets[p];
            FloatVector.fromArray(S, x, src).intoArray(dst, d);
            FloatVector.fromArray(S, x, src + L).intoArray(dst, d + L);
        }
    }

    @Override
    public void gather(float[] src, int sOff, int[] index, float[] dst, int dOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(S, src, sOff, index, i).intoArray(dst, dOff + i);
        for (; i < n; i++) dst[dOff + i] = src[sOff + index[i]];
    }

    @Override
    public void scatter(float[] src, int sOff, float add, float[] dst, int dOff, int[] index, int n) {
        int i = 0;
        for (; i + L <= n; i += L) FloatVector.fromArray(S, src, sOff + i).add(add).intoArray(dst, dOff, index, i);
        for (; i < n; i++) dst[dOff + index[i]] = src[sOff + i] + add;
    }

    @Override
    public void winogradInput(float[] in, int row0, int rowLength, int half, int step, int e0, int len, float[] v, int dst,
                              int stride) {
        int r0 = row0, r1 = row0 + rowLength, r2 = row0 + 2 * rowLength, r3 = row0 + 3 * rowLength;
        int e = e0, end = e0 + len;
        // every value a local and every store spelled out: vectors kept in an array are boxed (the
        // loop ran ~4x slower), and a helper storing one row's four combinations made the whole
        // Winograd convolution ~1.4x slower
        for (; e + L <= end; e += L) {
            int c1 = half + e, c2 = e + step, c3 = half + e + step;
            FloatVector a00 = rowsSub(in, r0, r2, e), a01 = rowsSub(in, r0, r2, c1), a02 = rowsSub(in, r0, r2, c2), a03 = rowsSub(in, r0, r2, c3);
            FloatVector a10 = rowsAdd(in, r1, r2, e), a11 = rowsAdd(in, r1, r2, c1), a12 = rowsAdd(in, r1, r2, c2), a13 = rowsAdd(in, r1, r2, c3);
            FloatVector a20 = rowsSub(in, r2, r1, e), a21 = rowsSub(in, r2, r1, c1), a22 = rowsSub(in, r2, r1, c2), a23 = rowsSub(in, r2, r1, c3);
            FloatVector a30 = rowsSub(in, r1, r3, e), a31 = rowsSub(in, r1, r3, c1), a32 = rowsSub(in, r1, r3, c2), a33 = rowsSub(in, r1, r3, c3);
            int at = dst + e - e0;
            a00.sub(a02).intoArray(v, at);
            a01.add(a02).intoArray(v, at + stride);
            a02.sub(a01).intoArray(v, at + 2 * stride);
            a01.sub(a03).intoArray(v, at + 3 * stride);
            a10.sub(a12).intoArray(v, at + 4 * stride);
            a11.add(a12).intoArray(v, at + 5 * stride);
            a12.sub(a11).intoArray(v, at + 6 * stride);
            a11.sub(a13).intoArray(v, at + 7 * stride);
            a20.sub(a22).intoArray(v, at + 8 * stride);
            a21.add(a22).intoArray(v, at + 9 * stride);
            a22.sub(a21).intoArray(v, at + 10 * stride);
            a21.sub(a23).intoArray(v, at + 11 * stride);
            a30.sub(a32).intoArray(v, at + 12 * stride);
            a31.add(a32).intoArray(v, at + 13 * stride);
            a32.sub(a31).intoArray(v, at + 14 * stride);
            a31.sub(a33).intoArray(v, at + 15 * stride);
        }
        if (e < end) ScalarKernels.winogradInputLoop(in, row0, rowLength, half, step, e, end - e, v, dst + e - e0, stride);
    }

    private static FloatVector rowsAdd(float[] in, int a, int b, int c) {
        return FloatVector.fromArray(S, in, a + c).add(FloatVector.fromArray(S, in, b + c));
    }

    private static FloatVector rowsSub(float[] in, int a, int b, int c) {
        return FloatVector.fromArray(S, in, a + c).sub(FloatVector.fromArray(S, in, b + c));
    }

    @Override
    public void winogradOutput(float[] p, int at, int stride, int len, float[] y, int yOff) {
        int e = 0;
        for (; e + L <= len; e += L) {
            int q = at + e;
            FloatVector s00 = sum3(p, q, stride), s01 = diff3(p, q + stride, stride);
            FloatVector s10 = sum3(p, q + 4 * stride, stride), s11 = diff3(p, q + 5 * stride, stride);
            FloatVector s20 = sum3(p, q + 8 * stride, stride), s21 = diff3(p, q + 9 * stride, stride);
            FloatVector s30 = sum3(p, q + 12 * stride, stride), s31 = diff3(p, q + 13 * stride, stride);
            s00.add(s10).add(s20).intoArray(y, yOff + e);
            s01.add(s11).add(s21).intoArray(y, yOff + len + e);
            s10.sub(s20).sub(s30).intoArray(y, yOff + 2 * len + e);
            s11.sub(s21).sub(s31).intoArray(y, yOff + 3 * len + e);
        }
        if (e < len) ScalarKernels.winogradOutputLoop(p, at, stride, e, len, y, yOff);
    }

    @Override
    public void winogradGradient(float[] g, int r0, int r1, int step, int len, float[] m, int dst, int stride) {
        // spelled out as winogradInput (a helper taking vectors was slower)
        int e = 0;
        for (; e + L <= len; e += L) {
            FloatVector g00 = FloatVector.fromArray(S, g, r0 + e), g01 = FloatVector.fromArray(S, g, r0 + step + e);
            FloatVector g10 = FloatVector.fromArray(S, g, r1 + e), g11 = FloatVector.fromArray(S, g, r1 + step + e);
            FloatVector h10 = g00.add(g10), h11 = g01.add(g11), h20 = g00.sub(g10), h21 = g01.sub(g11), h30 = g10.neg(), h31 = g11.neg();
            int at = dst + e;
            g00.intoArray(m, at);
            g00.add(g01).intoArray(m, at + stride);
            g00.sub(g01).intoArray(m, at + 2 * stride);
            g01.neg().intoArray(m, at + 3 * stride);
            h10.intoArray(m, at + 4 * stride);
            h10.add(h11).intoArray(m, at + 5 * stride);
            h10.sub(h11).intoArray(m, at + 6 * stride);
            h11.neg().intoArray(m, at + 7 * stride);
            h20.intoArray(m, at + 8 * stride);
            h20.add(h21).intoArray(m, at + 9 * stride);
            h20.sub(h21).intoArray(m, at + 10 * stride);
            h21.neg().intoArray(m, at + 11 * stride);
            h30.intoArray(m, at + 12 * stride);
            h30.add(h31).intoArray(m, at + 13 * stride);
            h30.sub(h31).intoArray(m, at + 14 * stride);
            h31.neg().intoArray(m, at + 15 * stride);
        }
        if (e < len) ScalarKernels.winogradGradientLoop(g, r0, r1, step, e, len, m, dst, stride);
    }

    /** p[q] + p[q + stride] + p[q + 2 stride], left to right. */
    private static FloatVector sum3(float[] p, int q, int stride) {
        return FloatVector.fromArray(S, p, q).add(FloatVector.fromArray(S, p, q + stride)).add(FloatVector.fromArray(S, p, q + 2 * stride));
    }

    /** p[q] - p[q + stride] - p[q + 2 stride], left to right. */
    private static FloatVector diff3(float[] p, int q, int stride) {
        return FloatVector.fromArray(S, p, q).sub(FloatVector.fromArray(S, p, q + stride)).sub(FloatVector.fromArray(S, p, q + 2 * stride));
    }

    @Override
    public int weightTileRows() {
        return WR;
    }

    @Override
    public int weightTileColumns() {
        return WC;
    }

    @Override
    public void convWeightTile(float[] x, int[] rows, float[] g, int gOff, int ldg, int count, float[] c, int cOff, int ldc) {
        // 6 x 64: each step reads a whole 64-wide row of g and 6 window values for 24 products (an 8 x 32
        // tile reads 8 scalars and half a row for 16, and was 40% slower on Conv-4's weight gradient).
        // The accumulators start from c unconditionally: a branch on them after the loop boxes the vectors.
        FloatVector c00 = FloatVector.fromArray(S, c, cOff + 0 * ldc + 0 * L), c01 = FloatVector.fromArray(S, c, cOff + 0 * ldc + 1 * L), c02 = FloatVector.fromArray(S, c, cOff + 0 * ldc + 2 * L), c03 = FloatVector.fromArray(S, c, cOff + 0 * ldc + 3 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, cOff + 1 * ldc + 0 * L), c11 = FloatVector.fromArray(S, c, cOff + 1 * ldc + 1 * L), c12 = FloatVector.fromArray(S, c, cOff + 1 * ldc + 2 * L), c13 = FloatVector.fromArray(S, c, cOff + 1 * ldc + 3 * L);
        FloatVector c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 0 * L), c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 1 * L), c22 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 2 * L), c23 = FloatVector.fromArray(S, c, cOff + 2 * ldc + 3 * L);
        FloatVector c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 0 * L), c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 1 * L), c32 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 2 * L), c33 = FloatVector.fromArray(S, c, cOff + 3 * ldc + 3 * L);
        FloatVector c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 0 * L), c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 1 * L), c42 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 2 * L), c43 = FloatVector.fromArray(S, c, cOff + 4 * ldc + 3 * L);
        FloatVector c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 0 * L), c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 1 * L), c52 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 2 * L), c53 = FloatVector.fromArray(S, c, cOff + 5 * ldc + 3 * L);
        int x0 = rows[0], x1 = rows[1], x2 = rows[2], x3 = rows[3], x4 = rows[4], x5 = rows[5];
        for (int p = 0, bi = gOff; p < count; p++, bi += ldg) {
            FloatVector b0 = FloatVector.fromArray(S, g, bi + 0 * L);
            FloatVector b1 = FloatVector.fromArray(S, g, bi + 1 * L);
            FloatVector b2 = FloatVector.fromArray(S, g, bi + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, g, bi + 3 * L);
            FloatVector av;
            av = FloatVector.broadcast(S, x[x0 + p]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            c03 = av.fma(b3, c03);
            av = FloatVector.broadcast(S, x[x1 + p]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            c13 = av.fma(b3, c13);
            av = FloatVector.broadcast(S, x[x2 + p]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            c23 = av.fma(b3, c23);
            av = FloatVector.broadcast(S, x[x3 + p]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            c33 = av.fma(b3, c33);
            av = FloatVector.broadcast(S, x[x4 + p]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            c43 = av.fma(b3, c43);
            av = FloatVector.broadcast(S, x[x5 + p]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
            c53 = av.fma(b3, c53);
        }
        c00.intoArray(c, cOff + 0 * ldc + 0 * L);
        c01.intoArray(c, cOff + 0 * ldc + 1 * L);
        c02.intoArray(c, cOff + 0 * ldc + 2 * L);
        c03.intoArray(c, cOff + 0 * ldc + 3 * L);
        c10.intoArray(c, cOff + 1 * ldc + 0 * L);
        c11.intoArray(c, cOff + 1 * ldc + 1 * L);
        c12.intoArray(c, cOff + 1 * ldc + 2 * L);
        c13.intoArray(c, cOff + 1 * ldc + 3 * L);
        c20.intoArray(c, cOff + 2 * ldc + 0 * L);
        c21.intoArray(c, cOff + 2 * ldc + 1 * L);
        c22.intoArray(c, cOff + 2 * ldc + 2 * L);
        c23.intoArray(c, cOff + 2 * ldc + 3 * L);
        c30.intoArray(c, cOff + 3 * ldc + 0 * L);
        c31.intoArray(c, cOff + 3 * ldc + 1 * L);
        c32.intoArray(c, cOff + 3 * ldc + 2 * L);
        c33.intoArray(c, cOff + 3 * ldc + 3 * L);
        c40.intoArray(c, cOff + 4 * ldc + 0 * L);
        c41.intoArray(c, cOff + 4 * ldc + 1 * L);
        c42.intoArray(c, cOff + 4 * ldc + 2 * L);
        c43.intoArray(c, cOff + 4 * ldc + 3 * L);
        c50.intoArray(c, cOff + 5 * ldc + 0 * L);
        c51.intoArray(c, cOff + 5 * ldc + 1 * L);
        c52.intoArray(c, cOff + 5 * ldc + 2 * L);
        c53.intoArray(c, cOff + 5 * ldc + 3 * L);
    }

    // ---------------------------------------------------------------- elementwise

    private static VectorOperators.Binary arithmetic(BinaryOp op) {
        switch (op) {
            case ADD: return VectorOperators.ADD;
            case SUB: return VectorOperators.SUB;
            case MUL: return VectorOperators.MUL;
            case DIV: return VectorOperators.DIV;
            case MAX: return VectorOperators.MAX;
            case MIN: return VectorOperators.MIN;
            default: return null;
        }
    }

    private static VectorOperators.Comparison comparison(BinaryOp op) {
        switch (op) {
            case GT: return VectorOperators.GT;
            case GE: return VectorOperators.GE;
            case LT: return VectorOperators.LT;
            case LE: return VectorOperators.LE;
            case EQ: return VectorOperators.EQ;
            case NE: return VectorOperators.NE;
            default: return null;
        }
    }

    @Override
    public boolean binary(BinaryOp op, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] out, int o, int n) {
        if (op == BinaryOp.RELU_BACKWARD) return reluBackward(x, xo, xs, y, yo, ys, out, o, n);
        VectorOperators.Binary f = arithmetic(op);
        VectorOperators.Comparison cmp = f == null ? comparison(op) : null;
        if (f == null && cmp == null) return false;
        int bound = S.loopBound(n);
        int i = 0;
        FloatVector one = FloatVector.broadcast(S, 1f), zero = FloatVector.zero(S);
        if (xs == 1 && ys == 1) {
            for (; i < bound; i += L) {
                FloatVector u = FloatVector.fromArray(S, x, xo + i), v = FloatVector.fromArray(S, y, yo + i);
                (f != null ? u.lanewise(f, v) : zero.blend(one, u.compare(cmp, v))).intoArray(out, o + i);
            }
        } else if (xs == 1) {
            FloatVector v = FloatVector.broadcast(S, y[yo]);
            for (; i < bound; i += L) {
                FloatVector u = FloatVector.fromArray(S, x, xo + i);
                (f != null ? u.lanewise(f, v) : zero.blend(one, u.compare(cmp, v))).intoArray(out, o + i);
            }
        } else if (ys == 1) {
            FloatVector u = FloatVector.broadcast(S, x[xo]);
            for (; i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, y, yo + i);
                (f != null ? u.lanewise(f, v) : zero.blend(one, u.compare(cmp, v))).intoArray(out, o + i);
            }
        } else {
            i = 0; // both broadcast: the scalar tail below fills everything
        }
        for (; i < n; i++) {
            out[o + i] = ScalarKernels.binary(op, x[xo + i * xs], y[yo + i * ys]);
        }
        return true;
    }

    /** g where x &gt; 0, else 0, for unit strides (anything else: the scalar loop). */
    private boolean reluBackward(float[] g, int go, int gs, float[] x, int xo, int xs, float[] out, int o, int n) {
        if (gs != 1 || xs != 1) return false;
        int bound = S.loopBound(n);
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            zero.blend(FloatVector.fromArray(S, g, go + i), v.compare(VectorOperators.GT, 0f)).intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = ScalarKernels.binary(BinaryOp.RELU_BACKWARD, g[go + i], x[xo + i]);
        return true;
    }

    @Override
    public boolean unary(UnaryOp op, float[] x, int xo, float[] out, int o, int n, float a, float b) {
        switch (op) {
            case NEG: case ABS: case SQRT: case RELU: case STEP: case CLAMP: case FILL:
                break;
            case EXP: case LOG: case TANH: case SIGMOID: case GELU_TANH:
                transcendental(op, x, xo, out, o, n);
                return true;
            default:
                return false;
        }
        int bound = S.loopBound(n);
        int i = 0;
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f);
        FloatVector va = FloatVector.broadcast(S, a), vb = FloatVector.broadcast(S, b);
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i);
            FloatVector r;
            switch (op) {
                case NEG: r = v.neg(); break;
                case ABS: r = v.abs(); break;
                case SQRT: r = v.sqrt(); break;
                case RELU: r = zero.blend(v, v.compare(VectorOperators.GT, 0f)); break;
                case STEP: r = zero.blend(one, v.compare(VectorOperators.GT, 0f)); break;
                case CLAMP: r = v.max(va).min(vb); break;
                default: r = va; break; // FILL
            }
            r.intoArray(out, o + i);
        }
        for (; i < n; i++) out[o + i] = (float) io.github.grad4j.backend.reference.ReferenceBackend.unary(op, x[xo + i], a, b);
        return true;
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public float reduce(ReduceOp op, float[] x, int xo, int n) {
        int i = 0;
        float r;
        if (op == ReduceOp.SUM) {
            int bound4 = n - n % (4 * L);
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            for (; i < bound4; i += 4 * L) {
                s0 = s0.add(FloatVector.fromArray(S, x, xo + i));
                s1 = s1.add(FloatVector.fromArray(S, x, xo + i + L));
                s2 = s2.add(FloatVector.fromArray(S, x, xo + i + 2 * L));
                s3 = s3.add(FloatVector.fromArray(S, x, xo + i + 3 * L));
            }
            for (; i < S.loopBound(n); i += L) s0 = s0.add(FloatVector.fromArray(S, x, xo + i));
            r = sumLanes(s0.add(s1).add(s2.add(s3)));
            for (; i < n; i++) r += x[xo + i];
            return r;
        }
        VectorOperators.Associative f = op == ReduceOp.MAX ? VectorOperators.MAX : VectorOperators.MIN;
        r = x[xo];
        int bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector acc = FloatVector.fromArray(S, x, xo);
            for (i = L; i < bound; i += L) acc = acc.lanewise(f, FloatVector.fromArray(S, x, xo + i));
            // reduceLanes may not propagate NaN; lanewise MAX/MIN do, so check the lanes explicitly
            VectorMask<Float> nan = acc.test(VectorOperators.IS_NAN);
            r = nan.anyTrue() ? Float.NaN : acc.reduceLanes(f);
        }
        for (; i < n; i++) r = op == ReduceOp.MAX ? Math.max(r, x[xo + i]) : Math.min(r, x[xo + i]);
        return r;
    }

    @Override
    public void accumulate(ReduceOp op, float[] acc, int ao, float[] x, int xo, int n) {
        VectorOperators.Binary f = op == ReduceOp.SUM ? VectorOperators.ADD
                : op == ReduceOp.MAX ? VectorOperators.MAX : VectorOperators.MIN;
        int bound = S.loopBound(n);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromArray(S, acc, ao + i).lanewise(f, FloatVector.fromArray(S, x, xo + i)).intoArray(acc, ao + i);
        }
        for (; i < n; i++) acc[ao + i] = ScalarKernels.combine(op, acc[ao + i], x[xo + i]);
    }

    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_K = 0.044715f;

    /**
     * exp, sigmoid and tanh-GELU on {@link #exp(FloatVector)}; log and tanh (not on hot paths) and
     * the tail on the double-precision definitions, lane by lane. Not the Vector API's own EXP, LOG
     * or TANH: compiled, those are SVML and, interpreted, Math per lane, and the two differ in the
     * last bit for about 1% of inputs, so a run's numbers depended on when the JIT had compiled
     * the loop (a resumed training run differed from an uninterrupted one in the last bit). Accuracy
     * against the reference is tested (a few ulp), not bit-exact.
     */
    private static void transcendental(UnaryOp op, float[] x, int xo, float[] out, int o, int n) {
        int i = 0;
        if (op == UnaryOp.EXP || op == UnaryOp.SIGMOID || op == UnaryOp.GELU_TANH) {
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (int bound = S.loopBound(n); i < bound; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xo + i);
                FloatVector r;
                if (op == UnaryOp.EXP) {
                    r = exp(v);
                } else if (op == UnaryOp.SIGMOID) {
                    r = one.div(one.add(exp(v.neg())));
                } else { // GELU_TANH as x sigmoid(2 inner): no cancellation in 1 + tanh for x < 0
                    FloatVector inner2 = v.mul(v).mul(v).mul(GELU_K).add(v).mul(-2 * GELU_C);
                    r = v.div(one.add(exp(inner2)));
                }
                r.intoArray(out, o + i);
            }
        }
        for (; i < n; i++) out[o + i] = (float) io.github.grad4j.backend.reference.ReferenceBackend.unary(op, x[xo + i], 0, 0);
    }

    // e^x as 2^n e^r: n = round(x log2 e), r = x - n ln 2 in two parts (Cody and Waite), e^r by the
    // classic single-precision minimax polynomial on |r| <= ln2 / 2 (Cephes expf's coefficients).
    private static final float LOG2E = 1.44269504088896341f, LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding and subtracting it rounds to an integer
    private static final float E5 = 1.9875691500e-4f, E4 = 1.3981999507e-3f, E3 = 8.3334519073e-3f,
            E2 = 4.1665795894e-2f, E1 = 1.6666665459e-1f, E0 = 5.0000001201e-1f;

    /**
     * e^x per lane from IEEE additions, multiplications, fused multiply-adds and integer bit
     * operations only, so compiled and interpreted code give the same bits. x is clamped to
     * [-104, 89] (beyond, the result is 0 or infinity anyway) and 2^n is applied in two factors, so
     * that results from 2^-150 (subnormal) up to overflow round once; NaN gives NaN.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> nan = x.compare(VectorOperators.NE, x);
        FloatVector xc = x.blend(0f, nan).max(-104f).min(89f);
        FloatVector shifted = xc.mul(LOG2E).add(ROUND), n = shifted.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(E5, E4);
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, E1));
        p = p.fma(r, FloatVector.broadcast(S, E0));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        // n as an int without a conversion: ROUND's last mantissa bits hold it
        IntVector k = shifted.reinterpretAsInts().sub(Float.floatToRawIntBits(ROUND));
        IntVector k1 = k.lanewise(VectorOperators.ASHR, 1), k2 = k.sub(k1);
        FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return y.mul(s1).mul(s2).blend(x, nan);
    }

    /**
     * The lanes' sum in lane order. reduceLanes(ADD) leaves the order unspecified, and the
     * intrinsic (compiled) and the fallback (interpreted) orders differ in the last bit, so the
     * same computation could round differently before and after the JIT compiled it.
     */
    private static float sumLanes(FloatVector v) {
        float[] lanes = LANES.get();
        v.intoArray(lanes, 0);
        float s = 0;
        for (float lane : lanes) s += lane;
        return s;
    }

    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[S.length()]);

    @Override
    public float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
        }
        float s = sumLanes(acc);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    @Override
    public void dots4(float[] a, int ao, float[] b, int bo, int bStride, int n, float[] out, int oo) {
        int b1 = bo + bStride, b2 = b1 + bStride, b3 = b2 + bStride;
        int i = 0;
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector va = FloatVector.fromArray(S, a, ao + i);
            acc0 = va.fma(FloatVector.fromArray(S, b, bo + i), acc0);
            acc1 = va.fma(FloatVector.fromArray(S, b, b1 + i), acc1);
            acc2 = va.fma(FloatVector.fromArray(S, b, b2 + i), acc2);
            acc3 = va.fma(FloatVector.fromArray(S, b, b3 + i), acc3);
        }
        float s0 = sumLanes(acc0), s1 = sumLanes(acc1), s2 = sumLanes(acc2), s3 = sumLanes(acc3);
        for (; i < n; i++) {
            float ai = a[ao + i];
            s0 += ai * b[bo + i];
            s1 += ai * b[b1 + i];
            s2 += ai * b[b2 + i];
            s3 += ai * b[b3 + i];
        }
        out[oo] = s0;
        out[oo + 1] = s1;
        out[oo + 2] = s2;
        out[oo + 3] = s3;
    }

    @Override
    public float centeredDot(float[] a, int ao, float[] x, int xo, float m, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector c = FloatVector.fromArray(S, x, xo + i).sub(m);
            acc = (a == null ? c : FloatVector.fromArray(S, a, ao + i)).fma(c, acc);
        }
        return ScalarKernels.centeredDot(a, ao, x, xo, m, i, n, sumLanes(acc));
    }

    @Override
    public void affineCentered(float[] x, int xo, float m, float scale, float[] g, int go, float gScale, float shift,
                               float[] out, int oo, int n) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + i).sub(m).mul(scale);
            if (g != null) v = v.add(FloatVector.fromArray(S, g, go + i).mul(gScale));
            v.add(shift).intoArray(out, oo + i);
        }
        ScalarKernels.affineCentered(x, xo, m, scale, g, go, gScale, shift, out, oo, i, n);
    }

    /**
     * L windows at a time, across row ends (Conv-4's pooled rows of 14, 7 and 3 are shorter than
     * the 16 lanes): the four corners of L windows are gathered through the top-left map, so the
     * unpredictable compares of the scalar loop become lane masks (6x faster on 28x28 planes).
     */
    @Override
    public void maxPool2x2(float[] x, int xo, int w, int[] topLeft, float[] out, int oo, int[] idx, int io) {
        int outs = topLeft.length, bound = outs - outs % L;
        int q = 0;
        for (; q < bound; q += L) {
            FloatVector a = FloatVector.fromArray(S, x, xo, topLeft, q), b = FloatVector.fromArray(S, x, xo + 1, topLeft, q);
            FloatVector c = FloatVector.fromArray(S, x, xo + w, topLeft, q), d = FloatVector.fromArray(S, x, xo + w + 1, topLeft, q);
            IntVector at = IntVector.fromArray(SI, topLeft, q);
            VectorMask<Float> m = b.compare(VectorOperators.GT, a).or(b.test(VectorOperators.IS_NAN));
            FloatVector best = a.blend(b, m);
            IntVector bestAt = at.blend(at.add(1), m.cast(SI));
            m = c.compare(VectorOperators.GT, best).or(c.test(VectorOperators.IS_NAN));
            best = best.blend(c, m);
            bestAt = bestAt.blend(at.add(w), m.cast(SI));
            m = d.compare(VectorOperators.GT, best).or(d.test(VectorOperators.IS_NAN));
            best = best.blend(d, m);
            bestAt = bestAt.blend(at.add(w + 1), m.cast(SI));
            best.intoArray(out, oo + q);
            bestAt.intoArray(idx, io + q);
        }
        ScalarKernels.maxPool2x2(x, xo, w, topLeft, q, outs, out, oo, idx, io);
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(S, alpha);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            va.fma(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    @Override
    public float expShiftSum(float[] x, int xo, float shift, float[] out, int oo, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(S), sh = FloatVector.broadcast(S, shift);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector e = exp(FloatVector.fromArray(S, x, xo + i).sub(sh));
            e.intoArray(out, oo + i);
            acc = acc.add(e);
        }
        float s = sumLanes(acc);
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xo + i] - shift);
            out[oo + i] = e;
            s += e;
        }
        return s;
    }

    @Override
    public void adam(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
                     float beta1, float beta2, float l2, float decay, float bc2Sqrt, float eps, float stepSize) {
        int i = 0;
        float c1 = 1 - beta1, c2 = 1 - beta2;
        FloatVector vb1 = FloatVector.broadcast(S, beta1), vb2 = FloatVector.broadcast(S, beta2);
        FloatVector vc1 = FloatVector.broadcast(S, c1), vc2 = FloatVector.broadcast(S, c2);
        FloatVector vl2 = FloatVector.broadcast(S, l2), vdecay = FloatVector.broadcast(S, decay);
        FloatVector vbc2 = FloatVector.broadcast(S, bc2Sqrt), veps = FloatVector.broadcast(S, eps);
        FloatVector vstep = FloatVector.broadcast(S, stepSize);
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector pv = FloatVector.fromArray(S, p, po + i);
            FloatVector gv = FloatVector.fromArray(S, g, go + i);
            if (l2 != 0) gv = gv.add(pv.mul(vl2));
            FloatVector mv = FloatVector.fromArray(S, m, mo + i).mul(vb1).add(gv.mul(vc1));
            FloatVector vv = FloatVector.fromArray(S, v, vo + i).mul(vb2).add(gv.mul(gv).mul(vc2));
            mv.intoArray(m, mo + i);
            vv.intoArray(v, vo + i);
            FloatVector denom = vv.sqrt().div(vbc2).add(veps);
            if (decay != 1) pv = pv.mul(vdecay);
            pv.sub(mv.div(denom).mul(vstep)).intoArray(p, po + i);
        }
        for (; i < n; i++) {
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
