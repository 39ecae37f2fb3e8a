package io.github.grad4j.backend.opencl;

import com.aparapi.Kernel;

/**
 * The single Aparapi kernel of the OpenCL backend. Aparapi translates {@link #run()} (and the
 * private methods it calls) to OpenCL C once; every op is a branch selected by {@link #op}.
 *
 * <p>Why one kernel with op codes: named entry points were unreliable on these machines (wrong
 * kernel run, or a silent fallback), and device buffers belong to a Kernel object, so one object
 * keeps the pool resident for all ops. Explicit mode: nothing moves unless the backend calls
 * {@code put} or {@code get}.
 *
 * <p>Data: {@link #pool} holds every tensor (INT32 as exact float values); {@link #stage} is the
 * upload/download buffer; {@link #params} carries shapes, strides, offsets and int scalars of one
 * call, laid out as described by the constants below. Keep this class free of Java features
 * Aparapi cannot translate: no objects, enums, switches, exceptions or static calls in run().
 */
final class GradKernel extends Kernel {
    /** Most dimensions of one index space (after size-1 dims are dropped and dims coalesced). */
    static final int MAXD = 8;
    /** A layout: rank then MAXD sizes. */
    static final int LAY_A = 0;
    /** Operand blocks over layout A: element offset then MAXD strides. */
    static final int OP0 = 9, OP1 = 18, OP2 = 27, OP3 = 36;
    /** A second index space (the reduced dims of a reduction) and an operand's strides over it. */
    static final int LAY_B = 45, OPB0 = 54;
    /** Int scalars. */
    static final int I0 = 63;
    static final int PARAMS = 96;

    static final int OP_FILL = 1, OP_UNPACK = 2, OP_PACK = 3, OP_COPY = 4, OP_UNARY = 5, OP_BINARY = 6,
            OP_WHERE = 7, OP_REDUCE = 8, OP_MATMUL = 9, OP_GATHER = 10, OP_SCATTER_ADD = 11,
            OP_IM2COL = 12, OP_COL2IM = 13, OP_MAXPOOL = 14, OP_MATMUL_TILED = 15;

    /** Side of the square output tile of the tiled matmul; the work-group is TILE x TILE. */
    static final int TILE = 16;

    int op;
    /** The UnaryOp, BinaryOp or ReduceOp ordinal. */
    int sub;
    /** Number of work items doing work (the launched range is rounded up). */
    int n;
    /** 1 when the destination is INT32: results are truncated toward zero. */
    int dstInt;
    float fa;
    float fb;

    float[] pool;
    float[] stage = new float[1];
    int[] params = new int[PARAMS];

    @Local float[] tileA = new float[TILE * TILE];
    @Local float[] tileB = new float[TILE * TILE];

    GradKernel(float[] pool) {
        this.pool = pool;
        setExplicit(true);
    }

    @Override
    public void run() {
        int g = getGlobalId();
        if (op == OP_MATMUL_TILED) {
            // every work item of a group must reach the barriers, so no early range check here
            matmulTiled();
        }
        if (op != OP_MATMUL_TILED && g < n) {
            if (op == OP_FILL) {
                pool[params[I0] + g] = fa;
            }
            if (op == OP_UNPACK) {
                pool[params[I0] + g] = stage[g];
            }
            if (op == OP_PACK) {
                stage[g] = pool[addr(g, LAY_A, OP0)];
            }
            if (op == OP_COPY) {
                pool[addr(g, LAY_A, OP1)] = store(pool[addr(g, LAY_A, OP0)]);
            }
            if (op == OP_UNARY) {
                pool[addr(g, LAY_A, OP1)] = store(unary(pool[addr(g, LAY_A, OP0)]));
            }
            if (op == OP_BINARY) {
                pool[addr(g, LAY_A, OP2)] = store(binary(pool[addr(g, LAY_A, OP0)], pool[addr(g, LAY_A, OP1)]));
            }
            if (op == OP_WHERE) {
                float c = pool[addr(g, LAY_A, OP0)];
                float v = pool[addr(g, LAY_A, OP2)];
                if (c != 0f) {
                    v = pool[addr(g, LAY_A, OP1)];
                }
                pool[addr(g, LAY_A, OP3)] = store(v);
            }
            if (op == OP_REDUCE) {
                reduce(g);
            }
            if (op == OP_MATMUL) {
                matmul(g);
            }
            if (op == OP_GATHER) {
                int at = (int) pool[addr(g, LAY_A, OP1)];
                pool[addr(g, LAY_A, OP2)] = pool[addr(g, LAY_A, OP0) + at * params[I0]];
            }
            if (op == OP_SCATTER_ADD) {
                scatterAdd(g);
            }
            if (op == OP_IM2COL) {
                im2col(g);
            }
            if (op == OP_COL2IM) {
                col2im(g);
            }
            if (op == OP_MAXPOOL) {
                maxPool(g);
            }
        }
    }

    /** Pool index of element {@code flat} (row-major over layout {@code lay}) of operand {@code opnd}. */
    private int addr(int flat, int lay, int opnd) {
        int idx = params[opnd];
        int rem = flat;
        for (int d = params[lay] - 1; d >= 0; d--) {
            int size = params[lay + 1 + d];
            int c = rem % size;
            rem = rem / size;
            idx += c * params[opnd + 1 + d];
        }
        return idx;
    }

    private float store(float v) {
        float r = v;
        if (dstInt == 1) {
            r = (float) ((int) v);
        }
        return r;
    }

    // Ordinals of UnaryOp: NEG EXP LOG SQRT ABS TANH SIGMOID SOFTPLUS RELU STEP SIGN GELU_TANH
    // POW_SCALAR CLAMP INSIDE ROUND FLOOR FILL (checked by OpenClBackend at start-up).
    private float unary(float x) {
        float r = 0f;
        if (sub == 0) {
            r = -x;
        }
        if (sub == 1) {
            r = exp(x);
        }
        if (sub == 2) {
            r = log(x);
        }
        if (sub == 3) {
            r = sqrt(x);
        }
        if (sub == 4) {
            r = abs(x);
        }
        if (sub == 5) {
            r = tanh(x);
        }
        if (sub == 6) {
            // exp of a non-positive argument only, so neither branch overflows
            float e = exp(-abs(x));
            r = 1f / (1f + e);
            if (x < 0f) {
                r = e / (1f + e);
            }
        }
        if (sub == 7) {
            float m = 0f;
            if (x > 0f) {
                m = x;
            }
            r = m + log1p(exp(-abs(x)));
        }
        if (sub == 8) {
            if (x > 0f) {
                r = x;
            }
        }
        if (sub == 9) {
            if (x > 0f) {
                r = 1f;
            }
        }
        if (sub == 10) {
            r = x;
            if (x > 0f) {
                r = 1f;
            }
            if (x < 0f) {
                r = -1f;
            }
        }
        if (sub == 11) {
            // 0.5 x (1 + tanh(u)) written as x / (1 + exp(-2u)): no cancellation for large negative x
            float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
            r = x / (1f + exp(-2f * inner));
        }
        if (sub == 12) {
            r = pow(x, fa);
        }
        if (sub == 13) {
            r = x;
            if (x < fa) {
                r = fa;
            }
            if (r > fb) {
                r = fb;
            }
            if (x != x) {
                r = x;
            }
        }
        if (sub == 14) {
            if (x >= fa && x <= fb) {
                r = 1f;
            }
        }
        if (sub == 15) {
            r = rint(x);
        }
        if (sub == 16) {
            r = floor(x);
        }
        if (sub == 17) {
            r = fa;
        }
        return r;
    }

    // Ordinals of BinaryOp: ADD SUB MUL DIV POW MAX MIN GT GE LT LE EQ NE.
    private float binary(float x, float y) {
        float r = 0f;
        if (sub == 0) {
            r = x + y;
        }
        if (sub == 1) {
            r = x - y;
        }
        if (sub == 2) {
            r = x * y;
        }
        if (sub == 3) {
            r = x / y;
        }
        if (sub == 4) {
            r = pow(x, y);
        }
        if (sub == 5) {
            r = y;
            if (x > y) {
                r = x;
            }
            if (x != x || y != y) {
                r = x + y;
            }
        }
        if (sub == 6) {
            r = y;
            if (x < y) {
                r = x;
            }
            if (x != x || y != y) {
                r = x + y;
            }
        }
        if (sub == 7) {
            if (x > y) {
                r = 1f;
            }
        }
        if (sub == 8) {
            if (x >= y) {
                r = 1f;
            }
        }
        if (sub == 9) {
            if (x < y) {
                r = 1f;
            }
        }
        if (sub == 10) {
            if (x <= y) {
                r = 1f;
            }
        }
        if (sub == 11) {
            if (x == y) {
                r = 1f;
            }
        }
        if (sub == 12) {
            if (x != y) {
                r = 1f;
            }
        }
        if (sub == 13) {
            if (y > 0f) {
                r = x;
            }
        }
        return r;
    }

    /**
     * One work item per output element: layout A = kept dims (OP0 x, OP1 out, OP2 indices),
     * layout B = reduced dims (OPB0 x). I0 = reduced count, I0+1 = 1 when indices are wanted.
     * sub: 0 SUM, 1 MAX, 2 MIN; NaN wins MAX/MIN and the first extreme wins ties, as in the reference.
     */
    private void reduce(int g) {
        int xb = addr(g, LAY_A, OP0);
        int count = params[I0];
        float acc = 0f;
        int arg = 0;
        for (int r = 0; r < count; r++) {
            float e = pool[xb + addr(r, LAY_B, OPB0)];
            if (sub == 0) {
                acc += e;
            }
            if (sub == 1 && (r == 0 || e > acc || (e != e && acc == acc))) {
                acc = e;
                arg = r;
            }
            if (sub == 2 && (r == 0 || e < acc || (e != e && acc == acc))) {
                acc = e;
                arg = r;
            }
        }
        pool[addr(g, LAY_A, OP1)] = store(acc);
        if (params[I0 + 1] == 1) {
            pool[addr(g, LAY_A, OP2)] = (float) arg;
        }
    }

    /**
     * One work item per output element; layout A = batch dims + [M, N]. OP0 reaches x[b, i, 0],
     * OP1 y[b, 0, j], OP2 out[b, i, j]; I0 = K, I0+1 and I0+2 the strides of x and y along K.
     */
    private void matmul(int g) {
        int xb = addr(g, LAY_A, OP0);
        int yb = addr(g, LAY_A, OP1);
        int k = params[I0];
        int xs = params[I0 + 1];
        int ys = params[I0 + 2];
        float acc = 0f;
        for (int p = 0; p < k; p++) {
            acc += pool[xb + p * xs] * pool[yb + p * ys];
        }
        pool[addr(g, LAY_A, OP2)] = acc;
    }

    /**
     * Tiled product of one batch with local-memory tiles; the range is 2D-flattened: the backend
     * launches groups of TILE*TILE items over ceil(M/TILE)*ceil(N/TILE) groups per batch.
     * I0..: K, M, N, x strides (i, k), y strides (k, j), out strides (i, j), tiles along N,
     * tiles per batch, batches; batch bases come from layout A over the batch dims (OP0 x, OP1 y, OP2 out).
     */
    private void matmulTiled() {
        int k = params[I0];
        int m = params[I0 + 1];
        int nn = params[I0 + 2];
        int xsi = params[I0 + 3];
        int xsk = params[I0 + 4];
        int ysk = params[I0 + 5];
        int ysj = params[I0 + 6];
        int osi = params[I0 + 7];
        int osj = params[I0 + 8];
        int tilesN = params[I0 + 9];
        int tilesPerBatch = params[I0 + 10];
        int batches = params[I0 + 11];

        int group = getGroupId();
        int lid = getLocalId();
        int batch = group / tilesPerBatch;
        int t = group % tilesPerBatch;
        int li = lid / TILE;
        int lj = lid % TILE;
        int i = (t / tilesN) * TILE + li;
        int j = (t % tilesN) * TILE + lj;
        int bb = batch;
        if (bb >= batches) {
            bb = batches - 1;
        }
        int xb = addr(bb, LAY_A, OP0);
        int yb = addr(bb, LAY_A, OP1);
        float acc = 0f;
        for (int k0 = 0; k0 < k; k0 += TILE) {
            // tileA[li][lj] = x[i, k0 + lj]; tileB[li][lj] = y[k0 + li, j]
            float a = 0f;
            if (i < m && k0 + lj < k) {
                a = pool[xb + i * xsi + (k0 + lj) * xsk];
            }
            tileA[lid] = a;
            float b = 0f;
            if (k0 + li < k && j < nn) {
                b = pool[yb + (k0 + li) * ysk + j * ysj];
            }
            tileB[lid] = b;
            localBarrier();
            for (int p = 0; p < TILE; p++) {
                acc += tileA[li * TILE + p] * tileB[p * TILE + lj];
            }
            localBarrier();
        }
        if (batch < batches && i < m && j < nn) {
            pool[addr(bb, LAY_A, OP2) + i * osi + j * osj] = acc;
        }
    }

    /**
     * Atomic-free scatter: one work item per destination column (all coordinates but the
     * scattered dim), looping over the sources in order. Layout A = src shape with the dim set to
     * 1; OP0 src, OP1 index, OP2 out. I0 = length along dim, I0+1..3 = src, index, out strides on dim.
     */
    private void scatterAdd(int g) {
        int sb = addr(g, LAY_A, OP0);
        int ib = addr(g, LAY_A, OP1);
        int ob = addr(g, LAY_A, OP2);
        int len = params[I0];
        int ss = params[I0 + 1];
        int is = params[I0 + 2];
        int os = params[I0 + 3];
        for (int j = 0; j < len; j++) {
            int t = (int) pool[ib + j * is];
            pool[ob + t * os] += pool[sb + j * ss];
        }
    }

    /**
     * out [N, C*kh*kw, OH*OW] (layout A, OP1) from x [N, C, H, W] (OP0 offset and strides).
     * I0..: C, H, W, kh, kw, sh, sw, ph, pw, OH, OW.
     */
    private void im2col(int g) {
        int h = params[I0 + 1];
        int w = params[I0 + 2];
        int kh = params[I0 + 3];
        int kw = params[I0 + 4];
        int ow = params[I0 + 10];
        int l = params[I0 + 9] * ow;
        int rows = params[I0] * kh * kw;
        int b = g / (rows * l);
        int row = (g / l) % rows;
        int pos = g % l;
        int c = row / (kh * kw);
        int i = (row / kw) % kh;
        int j = row % kw;
        int hy = (pos / ow) * params[I0 + 5] - params[I0 + 7] + i;
        int wz = (pos % ow) * params[I0 + 6] - params[I0 + 8] + j;
        float e = 0f;
        if (hy >= 0 && hy < h && wz >= 0 && wz < w) {
            e = pool[params[OP0] + b * params[OP0 + 1] + c * params[OP0 + 2] + hy * params[OP0 + 3]
                    + wz * params[OP0 + 4]];
        }
        pool[addr(g, LAY_A, OP1)] = e;
    }

    /**
     * out [N, C, H, W] (layout A, OP1) summed from cols [N, C*kh*kw, OH*OW] (OP0 offset and
     * strides): each output element gathers the patches that cover it, so no atomics.
     */
    private void col2im(int g) {
        int ch = params[I0];
        int h = params[I0 + 1];
        int w = params[I0 + 2];
        int kh = params[I0 + 3];
        int kw = params[I0 + 4];
        int sh = params[I0 + 5];
        int sw = params[I0 + 6];
        int ph = params[I0 + 7];
        int pw = params[I0 + 8];
        int oh = params[I0 + 9];
        int ow = params[I0 + 10];
        int wz = g % w;
        int hy = (g / w) % h;
        int c = (g / (w * h)) % ch;
        int b = g / (w * h * ch);
        float acc = 0f;
        for (int i = 0; i < kh; i++) {
            int ty = hy + ph - i;
            if (ty >= 0 && ty % sh == 0 && ty / sh < oh) {
                for (int j = 0; j < kw; j++) {
                    int tz = wz + pw - j;
                    if (tz >= 0 && tz % sw == 0 && tz / sw < ow) {
                        int row = (c * kh + i) * kw + j;
                        int col = (ty / sh) * ow + tz / sw;
                        acc += pool[params[OP0] + b * params[OP0 + 1] + row * params[OP0 + 2] + col * params[OP0 + 3]];
                    }
                }
            }
        }
        pool[addr(g, LAY_A, OP1)] = acc;
    }

    /**
     * out and indices [N, C, OH, OW] (layout A; OP1 out, OP2 indices) from x [N, C, H, W] (OP0).
     * I0..: C, H, W, kh, kw, sh, sw, ph, pw, OH, OW.
     */
    private void maxPool(int g) {
        int ch = params[I0];
        int h = params[I0 + 1];
        int w = params[I0 + 2];
        int kh = params[I0 + 3];
        int kw = params[I0 + 4];
        int oh = params[I0 + 9];
        int ow = params[I0 + 10];
        int z = g % ow;
        int y = (g / ow) % oh;
        int c = (g / (ow * oh)) % ch;
        int b = g / (ow * oh * ch);
        int xb = params[OP0] + b * params[OP0 + 1] + c * params[OP0 + 2];
        float best = -1f / 0f;
        int bestAt = -1;
        for (int i = 0; i < kh; i++) {
            int hy = y * params[I0 + 5] - params[I0 + 7] + i;
            for (int j = 0; j < kw; j++) {
                int wz = z * params[I0 + 6] - params[I0 + 8] + j;
                if (hy >= 0 && hy < h && wz >= 0 && wz < w) {
                    float e = pool[xb + hy * params[OP0 + 3] + wz * params[OP0 + 4]];
                    if (bestAt < 0 || e > best || e != e) {
                        best = e;
                        bestAt = hy * w + wz;
                    }
                }
            }
        }
        pool[addr(g, LAY_A, OP1)] = best;
        pool[addr(g, LAY_A, OP2)] = (float) bestAt;
    }
}
