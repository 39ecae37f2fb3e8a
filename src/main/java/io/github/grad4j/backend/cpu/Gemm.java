package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.ReduceOp;

/**
 * Packed, cache-blocked float32 matrix product C = A B on arrays addressed by (offset, row
 * stride, column stride), so row-major, column-major (a transpose passed as strides) and general
 * strided operands all work without materializing a copy: packing reads them in place.
 *
 * <p>Blocking (BLIS order): for each NC-wide column panel of B and KC-deep slice of K, B is packed
 * into NR-wide slivers (one sliver stays in L1 while the register tile walks down A); for each
 * MC-tall block of A, A is packed into MR-tall slivers (the block stays in L2). Pack buffers are
 * per thread and reused: no garbage on the hot path.
 *
 * <p>Determinism: every element of C is the sum over K slices (in order, each slice starting from
 * zero and added to C) of a fused multiply-add chain over p in increasing order. Neither the
 * thread count nor how the output is partitioned changes that order, so results are bitwise
 * identical for any number of threads.
 */
final class Gemm {
    static final int KC = 256;
    static final int MC = 128;
    static final int NC = 1024;

    private final Kernels kernels;
    private final int mr, nr;
    private final ThreadLocal<Workspace> workspaces;

    Gemm(Kernels kernels) {
        this.kernels = kernels;
        this.mr = kernels.mr();
        this.nr = kernels.nr();
        this.workspaces = ThreadLocal.withInitial(() -> new Workspace(mr, nr));
    }

    int mr() {
        return mr;
    }

    int nr() {
        return nr;
    }

    private static final class Workspace {
        final float[] a;
        final float[] b;
        final float[] tile;

        Workspace(int mr, int nr) {
            a = new float[roundUp(MC, mr) * KC];
            b = new float[roundUp(NC, nr) * KC];
            tile = new float[mr * nr];
        }
    }

    static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    /** Computes rows [i0, i1) and columns [j0, j1) of C (K = k) on the calling thread. */
    void multiply(float[] a, int aOff, int aRs, int aCs,
                  float[] b, int bOff, int bRs, int bCs,
                  float[] c, int cOff, int cRs, int cCs,
                  int k, int i0, int i1, int j0, int j1) {
        multiply(a, aOff, aRs, aCs, b, bOff, bRs, bCs, c, cOff, cRs, cCs, k, i0, i1, j0, j1, false);
    }

    /**
     * As {@link #multiply(float[], int, int, int, float[], int, int, int, float[], int, int, int, int, int, int, int, int)},
     * but with {@code accumulate} C += A B: every K slice is added to C as it stands (a sum of
     * products over a batch, e.g. a convolution's weight gradient over images, is a chain of these).
     */
    void multiply(float[] a, int aOff, int aRs, int aCs,
                  float[] b, int bOff, int bRs, int bCs,
                  float[] c, int cOff, int cRs, int cCs,
                  int k, int i0, int i1, int j0, int j1, boolean accumulate) {
        if (i0 >= i1 || j0 >= j1) return;
        if (k == 0) {
            if (accumulate) return;
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++) c[cOff + i * cRs + j * cCs] = 0f;
            return;
        }
        Workspace ws = workspaces.get();
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                packB(b, bOff, bRs, bCs, pc, kc, jc, nc, ws.b);
                boolean add = accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(a, aOff, aRs, aCs, ic, mc, pc, kc, ws.a);
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        int bAt = jr * kc;
                        for (int ir = 0; ir < mc; ir += mr) {
                            int rows = Math.min(mr, mc - ir);
                            int cAt = cOff + (ic + ir) * cRs + (jc + jr) * cCs;
                            if (rows == mr && cols == nr && cCs == 1) {
                                if (!add) {
                                    kernels.gemmTile(ws.a, ir * kc, ws.b, bAt, kc, c, cAt, cRs);
                                } else {
                                    kernels.gemmTile(ws.a, ir * kc, ws.b, bAt, kc, ws.tile, 0, nr);
                                    for (int r = 0; r < mr; r++) {
                                        kernels.accumulate(ReduceOp.SUM, c, cAt + r * cRs, ws.tile, r * nr, nr);
                                    }
                                }
                            } else {
                                float[] t = ws.tile;
                                kernels.gemmTile(ws.a, ir * kc, ws.b, bAt, kc, t, 0, nr);
                                for (int r = 0; r < rows; r++) {
                                    int ci = cAt + r * cRs;
                                    for (int j = 0; j < cols; j++, ci += cCs) {
                                        c[ci] = add ? c[ci] + t[r * nr + j] : t[r * nr + j];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** A[ic .. ic+mc, pc .. pc+kc] into MR-tall slivers: sliver s at s*MR*kc, element p*MR + r. */
    private void packA(float[] a, int aOff, int rs, int cs, int ic, int mc, int pc, int kc, float[] dst) {
        for (int s = 0; s < mc; s += mr) {
            int rows = Math.min(mr, mc - s);
            int base = s * kc;
            int src0 = aOff + (ic + s) * rs + pc * cs;
            if (cs == 1) {
                // row-major A: each row is contiguous in p
                for (int r = 0; r < rows; r++) {
                    int src = src0 + r * rs;
                    for (int p = 0, d = base + r; p < kc; p++, d += mr) dst[d] = a[src + p];
                }
            } else {
                // column-major A (a transposed row-major matrix: rs == 1) or general strides
                for (int p = 0; p < kc; p++) {
                    int src = src0 + p * cs;
                    int d = base + p * mr;
                    for (int r = 0; r < rows; r++) dst[d + r] = a[src + r * rs];
                }
            }
            if (rows < mr) {
                for (int p = 0; p < kc; p++)
                    for (int r = rows; r < mr; r++) dst[base + p * mr + r] = 0f;
            }
        }
    }

    /** B[pc .. pc+kc, jc .. jc+nc] into NR-wide slivers: sliver t at t*NR*kc, element p*NR + j. */
    private void packB(float[] b, int bOff, int rs, int cs, int pc, int kc, int jc, int nc, float[] dst) {
        for (int t = 0; t < nc; t += nr) {
            int cols = Math.min(nr, nc - t);
            int base = t * kc;
            int src0 = bOff + pc * rs + (jc + t) * cs;
            if (cs == 1) {
                // row-major B: NR contiguous floats per p
                for (int p = 0; p < kc; p++) System.arraycopy(b, src0 + p * rs, dst, base + p * nr, cols);
            } else if (rs == 1) {
                // column-major B (e.g. W^T of a row-major weight W [N, K]): contiguous in p
                for (int j = 0; j < cols; j++) {
                    int src = src0 + j * cs;
                    for (int p = 0, d = base + j; p < kc; p++, d += nr) dst[d] = b[src + p];
                }
            } else {
                for (int p = 0; p < kc; p++) {
                    int src = src0 + p * rs;
                    int d = base + p * nr;
                    for (int j = 0; j < cols; j++) dst[d + j] = b[src + j * cs];
                }
            }
            if (cols < nr) {
                for (int p = 0; p < kc; p++)
                    for (int j = cols; j < nr; j++) dst[base + p * nr + j] = 0f;
            }
        }
    }
}
