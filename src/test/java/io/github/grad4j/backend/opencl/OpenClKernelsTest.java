package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every kernel of the OpenCL backend against the reference backend (FLOAT32 storages, so both
 * round to float32 on store) on awkward shapes: rank 0, size 1, primes, non-contiguous
 * (transposed, offset, stepped) and broadcast (stride 0) views. Each test also checks that kernels
 * were executed (the backend itself throws if Aparapi fell back to its Java thread pool).
 */
class OpenClKernelsTest {
    private static final ReferenceBackend REF = ReferenceBackend.INSTANCE;
    private static final int[][] SHAPES = {{}, {1}, {7}, {3, 5}, {2, 3, 5}, {4, 1, 3}, {2, 1, 3, 1, 2}, {1, 13}};
    private static final String[] INPUT_KINDS = {"contiguous", "offset", "transposed", "stepped", "broadcast"};

    private OpenClBackend cl;
    private Random random;
    private long executesBefore;

    @BeforeEach
    void setUp() {
        cl = OpenClTestSupport.backend();
        random = new Random(42);
        executesBefore = cl.transferStats().executes();
    }

    /** The same storage contents on both backends. */
    private record Pair(Storage ref, Storage cl) {
        Strided refView(Layout l) {
            return new Strided(ref, l.offset, l.shape, l.strides);
        }

        Strided clView(Layout l) {
            return new Strided(cl, l.offset, l.shape, l.strides);
        }
    }

    private record Layout(int offset, int[] shape, int[] strides, int storageSize) {
    }

    private static Layout layout(int[] shape, String kind) {
        int rank = shape.length;
        int numel = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        int[] st = Strided.rowMajorStrides(shape);
        switch (kind) {
            case "contiguous":
                return new Layout(0, shape, st, numel);
            case "offset":
                return new Layout(5, shape, st, numel + 7);
            case "transposed": {
                int[] t = new int[rank];
                int s = 1;
                for (int d = 0; d < rank; d++) {
                    t[d] = s;
                    s *= shape[d];
                }
                return new Layout(0, shape, t, numel);
            }
            case "stepped": {
                int[] t = new int[rank];
                int s = 2;
                for (int d = rank - 1; d >= 0; d--) {
                    t[d] = s;
                    s *= shape[d];
                }
                return new Layout(1, shape, t, 2 * numel + 1);
            }
            case "broadcast": {
                if (rank == 0) return layout(shape, "contiguous");
                int[] t = st.clone();
                t[0] = 0;
                return new Layout(0, shape, t, Math.max(1, numel / Math.max(1, shape[0])));
            }
            default:
                throw new IllegalArgumentException(kind);
        }
    }

    private float[] values(int n, double lo, double hi) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return f;
    }

    private Pair pair(float[] data, DType dtype) {
        if (dtype == DType.INT32) {
            int[] n = new int[data.length];
            for (int i = 0; i < n.length; i++) n[i] = (int) data[i];
            return new Pair(REF.upload(n), cl.upload(n));
        }
        return new Pair(REF.upload(data), cl.upload(data));
    }

    private Pair pair(float[] data) {
        return pair(data, DType.FLOAT32);
    }

    private Pair zeros(DType dtype, int n) {
        return new Pair(REF.allocate(dtype, n), cl.allocate(dtype, n));
    }

    /** Whole storages equal within tol * (1 + |ref|); NaN matches NaN. */
    private void assertClose(String what, Pair p, double tol) {
        double[] want = REF.download(Strided.contiguous(p.ref, new int[]{p.ref.size()}));
        double[] got = cl.download(Strided.contiguous(p.cl, new int[]{p.cl.size()}));
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            double w = want[i], g = got[i];
            if (Double.isNaN(w) || Double.isNaN(g)) {
                assertTrue(Double.isNaN(w) && Double.isNaN(g), what + " element " + i + ": want " + w + " got " + g);
            } else if (Double.isInfinite(w)) {
                assertEquals(w, g, what + " element " + i);
            } else {
                assertTrue(Math.abs(w - g) <= tol * (1 + Math.abs(w)),
                        what + " element " + i + ": want " + w + " got " + g + " (tol " + tol + ")");
            }
        }
    }

    private void assertRanKernels() {
        assertTrue(cl.transferStats().executes() > executesBefore, "no OpenCL execute was counted");
    }

    // ------------------------------------------------------------------ elementwise

    @Test
    void uploadDownloadRoundTripsAndCountsBytes() {
        TransferStats before = cl.transferStats();
        float[] data = values(37, -1, 1);
        Storage s = cl.upload(data);
        TransferStats mid = cl.transferStats().minus(before);
        assertEquals(4 * 37 + mid.paramBytesToDevice(), mid.bytesToDevice());
        assertArrayEquals(data, cl.downloadFloats(Strided.contiguous(s, new int[]{37})));
        TransferStats all = cl.transferStats().minus(before);
        assertEquals(4 * 37, all.bytesToHost());
        assertEquals(2, all.executes());
        // a strided download packs on the device and moves only the view's elements
        TransferStats b2 = cl.transferStats();
        float[] every3rd = cl.downloadFloats(new Strided(s, 1, new int[]{12}, new int[]{3}));
        for (int i = 0; i < 12; i++) assertEquals(data[1 + 3 * i], every3rd[i]);
        assertEquals(48, cl.transferStats().minus(b2).bytesToHost());
        // single elements
        s.set(4, 2.5);
        assertEquals(2.5, s.get(4));
        assertEquals(0.0, cl.allocate(DType.FLOAT32, 3).get(2));
        Storage ints = cl.upload(new int[]{-7, 0, 16_777_215});
        assertArrayEquals(new double[]{-7, 0, 16_777_215}, cl.download(Strided.contiguous(ints, new int[]{3})));
        assertThrows(IllegalArgumentException.class, () -> cl.upload(new int[]{1 << 24}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cl.allocate(DType.FLOAT64, 2));
        assertTrue(e.getMessage().contains("opencl backend supports FLOAT32 and INT32"), e.getMessage());
        assertEquals(0, cl.download(Strided.contiguous(cl.allocate(DType.FLOAT32, 0), new int[]{0})).length);
    }

    @Test
    void copyAllLayoutsAndDtypes() {
        for (int[] shape : SHAPES) {
            for (String in : INPUT_KINDS) {
                for (String outKind : new String[]{"contiguous", "transposed", "stepped"}) {
                    Layout li = layout(shape, in), lo = layout(shape, outKind);
                    Pair x = pair(values(li.storageSize, -5, 5));
                    for (DType dt : new DType[]{DType.FLOAT32, DType.INT32}) {
                        Pair out = zeros(dt, lo.storageSize);
                        REF.copy(x.refView(li), out.refView(lo));
                        cl.copy(x.clView(li), out.clView(lo));
                        assertClose("copy " + Arrays.toString(shape) + " " + in + "->" + outKind + " " + dt, out, 0);
                    }
                }
            }
        }
        assertRanKernels();
    }

    @Test
    void everyUnaryOp() {
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.POW_SCALAR;
            double a = op == UnaryOp.POW_SCALAR ? 2.5 : op == UnaryOp.FILL ? 1.25 : -0.5;
            double b = 0.7;
            for (int[] shape : SHAPES) {
                for (String in : INPUT_KINDS) {
                    Layout li = layout(shape, in);
                    Layout lo = layout(shape, in.equals("transposed") ? "stepped" : "contiguous");
                    float[] data = values(li.storageSize, positive ? 0.01 : -4, 4);
                    // halves exercise round-half-even, exact zeros the sign/step/relu edges
                    if (data.length > 2) {
                        data[0] = 2.5f;
                        data[1] = -1.5f;
                        data[2] = 0f;
                    }
                    if (positive && data.length > 2) data[2] = 0.5f;
                    Pair x = pair(data);
                    Pair out = zeros(DType.FLOAT32, lo.storageSize);
                    REF.unary(op, x.refView(li), out.refView(lo), a, b);
                    cl.unary(op, x.clView(li), out.clView(lo), a, b);
                    assertClose(op + " " + Arrays.toString(shape) + " " + in, out, 2e-6);
                }
            }
        }
        // large magnitudes: sigmoid and softplus must not overflow
        for (UnaryOp op : new UnaryOp[]{UnaryOp.SIGMOID, UnaryOp.SOFTPLUS, UnaryOp.TANH, UnaryOp.GELU_TANH}) {
            Pair x = pair(new float[]{-100f, -30f, 30f, 100f, Float.NaN});
            Pair out = zeros(DType.FLOAT32, 5);
            Layout l = layout(new int[]{5}, "contiguous");
            REF.unary(op, x.refView(l), out.refView(l), 0, 0);
            cl.unary(op, x.clView(l), out.clView(l), 0, 0);
            assertClose(op + " extremes", out, 2e-6);
        }
        assertRanKernels();
    }

    @Test
    void everyBinaryOpWithBroadcast() {
        for (BinaryOp op : BinaryOp.values()) {
            for (int[] shape : SHAPES) {
                for (String kx : INPUT_KINDS) {
                    String ky = kx.equals("broadcast") ? "transposed" : "broadcast";
                    Layout lx = layout(shape, kx), ly = layout(shape, ky), lo = layout(shape, "contiguous");
                    boolean pow = op == BinaryOp.POW;
                    // small integers make comparisons hit equality
                    float[] xd = values(lx.storageSize, pow ? 0.1 : -3, 3);
                    float[] yd = values(ly.storageSize, -3, 3);
                    if (!pow) {
                        for (int i = 0; i < xd.length; i += 2) xd[i] = Math.round(xd[i]);
                        for (int i = 0; i < yd.length; i += 2) yd[i] = Math.round(yd[i]);
                    }
                    Pair x = pair(xd), y = pair(yd), out = zeros(DType.FLOAT32, lo.storageSize);
                    REF.binary(op, x.refView(lx), y.refView(ly), out.refView(lo));
                    cl.binary(op, x.clView(lx), y.clView(ly), out.clView(lo));
                    assertClose(op + " " + Arrays.toString(shape) + " " + kx + "/" + ky, out, 2e-6);
                }
            }
        }
        // NaN propagation of MAX and MIN, integer division
        Layout l = layout(new int[]{4}, "contiguous");
        for (BinaryOp op : new BinaryOp[]{BinaryOp.MAX, BinaryOp.MIN, BinaryOp.NE, BinaryOp.EQ}) {
            Pair x = pair(new float[]{Float.NaN, 1, 2, Float.NaN}), y = pair(new float[]{1, Float.NaN, 3, Float.NaN});
            Pair out = zeros(DType.FLOAT32, 4);
            REF.binary(op, x.refView(l), y.refView(l), out.refView(l));
            cl.binary(op, x.clView(l), y.clView(l), out.clView(l));
            assertClose(op + " NaN", out, 0);
        }
        Pair xi = pair(new float[]{7, -7, 9, 100}, DType.INT32), yi = pair(new float[]{2, 2, -4, 7}, DType.INT32);
        for (BinaryOp op : new BinaryOp[]{BinaryOp.DIV, BinaryOp.ADD, BinaryOp.MUL}) {
            Pair out = zeros(DType.INT32, 4);
            REF.binary(op, xi.refView(l), yi.refView(l), out.refView(l));
            cl.binary(op, xi.clView(l), yi.clView(l), out.clView(l));
            assertClose(op + " INT32", out, 0);
        }
        assertRanKernels();
    }

    @Test
    void whereSelects() {
        for (int[] shape : SHAPES) {
            for (String kc : INPUT_KINDS) {
                Layout lc = layout(shape, kc), lx = layout(shape, "transposed"), ly = layout(shape, "broadcast");
                Layout lo = layout(shape, "stepped");
                float[] c = values(lc.storageSize, 0, 1);
                for (int i = 0; i < c.length; i++) c[i] = c[i] > 0.5 ? 1 : 0;
                Pair cond = pair(c), x = pair(values(lx.storageSize, -1, 1)), y = pair(values(ly.storageSize, -1, 1));
                Pair out = zeros(DType.FLOAT32, lo.storageSize);
                REF.where(cond.refView(lc), x.refView(lx), y.refView(ly), out.refView(lo));
                cl.where(cond.clView(lc), x.clView(lx), y.clView(ly), out.clView(lo));
                assertClose("where " + Arrays.toString(shape) + " " + kc, out, 0);
            }
        }
        assertRanKernels();
    }

    // ------------------------------------------------------------------ reductions

    @Test
    void reduceOverEveryAxisSubset() {
        int[][] shapes = {{7}, {3, 5}, {2, 3, 5}, {4, 1, 3}, {1, 13}, {}};
        for (int[] shape : shapes) {
            int rank = shape.length;
            for (int mask = 0; mask < (1 << rank); mask++) {
                boolean[] axes = new boolean[rank];
                int count = 0;
                for (int d = 0; d < rank; d++) {
                    axes[d] = (mask & (1 << d)) != 0;
                    if (axes[d]) count++;
                }
                int[] outShape = shape.clone();
                for (int d = 0; d < rank; d++) if (axes[d]) outShape[d] = 1;
                for (String kx : new String[]{"contiguous", "transposed", "stepped", "broadcast"}) {
                    for (ReduceOp op : ReduceOp.values()) {
                        Layout lx = layout(shape, kx), lo = layout(outShape, "contiguous");
                        float[] data = values(lx.storageSize, -2, 2);
                        if (op != ReduceOp.SUM) for (int i = 0; i < data.length; i++) data[i] = Math.round(data[i]); // ties
                        Pair x = pair(data), out = zeros(DType.FLOAT32, lo.storageSize);
                        boolean withIdx = op != ReduceOp.SUM && count == 1;
                        Pair idx = withIdx ? zeros(DType.INT32, lo.storageSize) : null;
                        REF.reduce(op, x.refView(lx), axes, out.refView(lo), withIdx ? idx.refView(lo) : null);
                        cl.reduce(op, x.clView(lx), axes, out.clView(lo), withIdx ? idx.clView(lo) : null);
                        String what = op + " " + Arrays.toString(shape) + " axes " + Arrays.toString(axes) + " " + kx;
                        assertClose(what, out, 1e-5);
                        if (withIdx) assertClose(what + " indices", idx, 0);
                    }
                }
            }
        }
        // NaN wins MAX/MIN; an empty reduction sums to 0
        Pair x = pair(new float[]{1, Float.NaN, 3, 5, 2, 4});
        Layout lx = layout(new int[]{2, 3}, "contiguous"), lo = layout(new int[]{2, 1}, "contiguous");
        for (ReduceOp op : new ReduceOp[]{ReduceOp.MAX, ReduceOp.MIN}) {
            Pair out = zeros(DType.FLOAT32, 2), idx = zeros(DType.INT32, 2);
            REF.reduce(op, x.refView(lx), new boolean[]{false, true}, out.refView(lo), idx.refView(lo));
            cl.reduce(op, x.clView(lx), new boolean[]{false, true}, out.clView(lo), idx.clView(lo));
            assertClose(op + " NaN", out, 0);
            assertClose(op + " NaN indices", idx, 0);
        }
        Pair empty = pair(new float[0]), out = pair(new float[]{9, 9, 9});
        Layout le = layout(new int[]{3, 0}, "contiguous"), l3 = layout(new int[]{3, 1}, "contiguous");
        REF.reduce(ReduceOp.SUM, empty.refView(le), new boolean[]{false, true}, out.refView(l3), null);
        cl.reduce(ReduceOp.SUM, empty.clView(le), new boolean[]{false, true}, out.clView(l3), null);
        assertClose("sum over an empty axis", out, 0);
        assertRanKernels();
    }

    // ------------------------------------------------------------------ matmul

    @Test
    void matmulShapesStridesAndBatches() {
        try {
            for (String kernel : new String[]{"simple", "tiled", "auto"}) {
                cl.setMatmulKernel(kernel);
                matmulCases(kernel);
            }
        } finally {
            cl.setMatmulKernel("auto");
        }
        assertRanKernels();
    }

    private void matmulCases(String kernel) {
        int[][] mkn = {{1, 1, 1}, {3, 5, 7}, {1, 7, 1}, {17, 13, 19}, {33, 31, 35}, {2, 64, 3}, {16, 16, 16}};
        for (int[] d : mkn) {
            int m = d[0], k = d[1], n = d[2];
            for (int[] batch : new int[][]{{}, {2}, {2, 3}}) {
                for (String kind : new String[]{"contiguous", "transposed", "broadcast-x", "offset-y"}) {
                    int[] xs = concat(batch, m, k), ys = concat(batch, k, n), os = concat(batch, m, n);
                    Layout lx = layout(xs, kind.equals("transposed") ? "transposed" : "contiguous");
                    Layout ly = layout(ys, kind.equals("offset-y") ? "offset" : kind.equals("transposed") ? "stepped" : "contiguous");
                    if (kind.equals("broadcast-x") && batch.length > 0) lx = layout(xs, "broadcast");
                    Layout lo = layout(os, "contiguous");
                    Pair x = pair(values(lx.storageSize, -1, 1)), y = pair(values(ly.storageSize, -1, 1));
                    Pair out = zeros(DType.FLOAT32, lo.storageSize);
                    REF.matmul(x.refView(lx), y.refView(ly), out.refView(lo));
                    cl.matmul(x.clView(lx), y.clView(ly), out.clView(lo));
                    assertClose(kernel + " matmul " + Arrays.toString(d) + " batch " + Arrays.toString(batch) + " " + kind, out, 1e-5);
                }
            }
        }
        // k = 0 gives zeros; a transposed output is honoured
        Pair x = pair(new float[0]), y = pair(new float[0]), out = pair(values(6, 1, 2));
        Layout lx = layout(new int[]{2, 0}, "contiguous"), ly = layout(new int[]{0, 3}, "contiguous");
        Layout lo = layout(new int[]{2, 3}, "transposed");
        REF.matmul(x.refView(lx), y.refView(ly), out.refView(lo));
        cl.matmul(x.clView(lx), y.clView(ly), out.clView(lo));
        assertClose("matmul k=0", out, 0);
        Pair a = pair(values(15, -1, 1)), b = pair(values(35, -1, 1)), c = zeros(DType.FLOAT32, 21);
        Layout la = layout(new int[]{3, 5}, "contiguous"), lb = layout(new int[]{5, 7}, "contiguous");
        REF.matmul(a.refView(la), b.refView(lb), c.refView(layout(new int[]{3, 7}, "transposed")));
        cl.matmul(a.clView(la), b.clView(lb), c.clView(layout(new int[]{3, 7}, "transposed")));
        assertClose(kernel + " matmul into a transposed output", c, 1e-5);
    }

    private static int[] concat(int[] batch, int a, int b) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = a;
        s[batch.length + 1] = b;
        return s;
    }

    // ------------------------------------------------------------------ indexing

    private float[] indices(int count, int bound) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) f[i] = random.nextInt(bound);
        return f;
    }

    @Test
    void indexSelectAndIndexAddWithDuplicates() {
        int[] xs = {5, 7, 3};
        for (int dim = 0; dim < 3; dim++) {
            for (String kx : new String[]{"contiguous", "transposed", "stepped"}) {
                int len = 11;
                Pair idx = pair(indices(len, xs[dim]), DType.INT32);
                Layout li = layout(new int[]{len}, "contiguous");
                int[] os = xs.clone();
                os[dim] = len;
                Layout lx = layout(xs, kx), lo = layout(os, kx.equals("stepped") ? "transposed" : "contiguous");
                Pair x = pair(values(lx.storageSize, -1, 1)), out = zeros(DType.FLOAT32, lo.storageSize);
                REF.indexSelect(x.refView(lx), dim, idx.refView(li), out.refView(lo));
                cl.indexSelect(x.clView(lx), dim, idx.clView(li), out.clView(lo));
                assertClose("indexSelect dim " + dim + " " + kx, out, 0);
                // adjoint: accumulates into existing values
                Pair src = pair(values(lo.storageSize, -1, 1)), acc = pair(values(lx.storageSize, -1, 1));
                REF.indexAdd(src.refView(lo), dim, idx.refView(li), acc.refView(lx));
                cl.indexAdd(src.clView(lo), dim, idx.clView(li), acc.clView(lx));
                assertClose("indexAdd dim " + dim + " " + kx, acc, 1e-6);
            }
        }
        assertRanKernels();
    }

    @Test
    void gatherAndScatterAdd() {
        int[] xs = {3, 5, 4};
        for (int dim = 0; dim < 3; dim++) {
            int[] is = xs.clone();
            is[dim] = 7;
            for (String kind : new String[]{"contiguous", "transposed"}) {
                Layout lx = layout(xs, kind), li = layout(is, kind), lo = layout(is, "contiguous");
                Pair x = pair(values(lx.storageSize, -1, 1)), idx = pair(indices(li.storageSize, xs[dim]), DType.INT32);
                Pair out = zeros(DType.FLOAT32, lo.storageSize);
                REF.gather(x.refView(lx), dim, idx.refView(li), out.refView(lo));
                cl.gather(x.clView(lx), dim, idx.clView(li), out.clView(lo));
                assertClose("gather dim " + dim + " " + kind, out, 0);
                Pair src = pair(values(lo.storageSize, -1, 1)), acc = pair(values(lx.storageSize, -1, 1));
                REF.scatterAdd(src.refView(lo), dim, idx.refView(li), acc.refView(lx));
                cl.scatterAdd(src.clView(lo), dim, idx.clView(li), acc.clView(lx));
                assertClose("scatterAdd dim " + dim + " " + kind, acc, 1e-6);
            }
        }
        assertRanKernels();
    }

    // ------------------------------------------------------------------ convolution helpers

    @Test
    void im2colCol2imAndMaxPool() {
        int[][] xShapes = {{2, 3, 7, 5}, {1, 1, 1, 1}, {1, 2, 5, 11}};
        int[][] params = {{3, 2, 2, 1, 1, 0}, {1, 1, 1, 1, 0, 0}, {3, 3, 2, 2, 1, 1}, {2, 2, 2, 2, 0, 0}};
        for (int[] s : xShapes) {
            for (int[] q : params) {
                int kh = q[0], kw = q[1], sh = q[2], sw = q[3], ph = q[4], pw = q[5];
                int oh = (s[2] + 2 * ph - kh) / sh + 1, ow = (s[3] + 2 * pw - kw) / sw + 1;
                if (oh <= 0 || ow <= 0 || kh > s[2] + 2 * ph || kw > s[3] + 2 * pw) continue;
                String what = Arrays.toString(s) + " " + Arrays.toString(q);
                for (String kind : new String[]{"contiguous", "transposed"}) {
                    Layout lx = layout(s, kind);
                    Layout lc = layout(new int[]{s[0], s[1] * kh * kw, oh * ow}, kind);
                    Pair x = pair(values(lx.storageSize, -1, 1)), cols = zeros(DType.FLOAT32, lc.storageSize);
                    REF.im2col(x.refView(lx), kh, kw, sh, sw, ph, pw, cols.refView(lc));
                    cl.im2col(x.clView(lx), kh, kw, sh, sw, ph, pw, cols.clView(lc));
                    assertClose("im2col " + what + " " + kind, cols, 0);
                    Pair c2 = pair(values(lc.storageSize, -1, 1)), img = zeros(DType.FLOAT32, lx.storageSize);
                    REF.col2im(c2.refView(lc), kh, kw, sh, sw, ph, pw, img.refView(lx));
                    cl.col2im(c2.clView(lc), kh, kw, sh, sw, ph, pw, img.clView(lx));
                    assertClose("col2im " + what + " " + kind, img, 1e-6);
                    if (ph * 2 <= kh && pw * 2 <= kw) {
                        Layout lo = layout(new int[]{s[0], s[1], oh, ow}, kind);
                        float[] data = values(lx.storageSize, -2, 2);
                        for (int i = 0; i < data.length; i += 3) data[i] = Math.round(data[i]); // ties
                        if (data.length > 4) data[4] = Float.NaN;
                        Pair xp = pair(data), out = zeros(DType.FLOAT32, lo.storageSize), idx = zeros(DType.INT32, lo.storageSize);
                        REF.maxPool2d(xp.refView(lx), kh, kw, sh, sw, ph, pw, out.refView(lo), idx.refView(lo));
                        cl.maxPool2d(xp.clView(lx), kh, kw, sh, sw, ph, pw, out.clView(lo), idx.clView(lo));
                        assertClose("maxPool2d " + what + " " + kind, out, 0);
                        assertClose("maxPool2d indices " + what + " " + kind, idx, 0);
                    }
                }
            }
        }
        assertRanKernels();
    }

    // ------------------------------------------------------------------ host fallbacks

    @Test
    void topkAndSolveFallBackToTheHostAndAreCounted() {
        for (boolean largest : new boolean[]{true, false}) {
            Layout lx = layout(new int[]{4, 9}, "transposed"), lo = layout(new int[]{4, 3}, "contiguous");
            float[] data = values(lx.storageSize, -2, 2);
            for (int i = 0; i < data.length; i += 2) data[i] = Math.round(data[i]);
            Pair x = pair(data), idx = zeros(DType.INT32, lo.storageSize);
            TransferStats before = cl.transferStats();
            REF.topk(x.refView(lx), 3, largest, idx.refView(lo));
            cl.topk(x.clView(lx), 3, largest, idx.clView(lo));
            TransferStats used = cl.transferStats().minus(before);
            assertEquals(1, used.hostFallbacks());
            assertEquals(4 * 36, used.bytesToHost());
            assertClose("topk largest=" + largest, idx, 0);
        }
        float[] a = values(2 * 16, -1, 1);
        for (int b = 0; b < 2; b++) for (int i = 0; i < 4; i++) a[b * 16 + i * 5] += 4;
        Pair am = pair(a), bm = pair(values(24, -1, 1)), out = zeros(DType.FLOAT32, 24);
        Layout la = layout(new int[]{2, 4, 4}, "contiguous"), lb = layout(new int[]{2, 4, 3}, "transposed");
        Layout lo = layout(new int[]{2, 4, 3}, "contiguous");
        REF.solve(am.refView(la), bm.refView(lb), out.refView(lo));
        cl.solve(am.clView(la), bm.clView(lb), out.clView(lo));
        assertClose("solve", out, 1e-5);
        Pair singular = pair(new float[4]);
        Layout l22 = layout(new int[]{1, 2, 2}, "contiguous"), l21 = layout(new int[]{1, 2, 1}, "contiguous");
        Pair rhs = pair(new float[]{1, 1}), o = zeros(DType.FLOAT32, 2);
        assertThrows(ArithmeticException.class, () -> cl.solve(singular.clView(l22), rhs.clView(l21), o.clView(l21)));
    }

    // ------------------------------------------------------------------ pool

    @Test
    void poolGrowsAndFreesUnreachableStorages() {
        String old = System.getProperty("grad4j.opencl.poolFloats");
        System.setProperty("grad4j.opencl.poolFloats", "256");
        try (OpenClBackend small = OpenClBackend.create()) {
            int initial = small.poolCapacity();
            assertTrue(initial >= OpenClBackend.immovableFloats(), "pool below the immovable size: " + initial);
            Storage keep = small.upload(values(200, -1, 1));
            float[] kept = small.downloadFloats(Strided.contiguous(keep, new int[]{200}));
            Storage big = small.upload(values(initial, -1, 1));
            assertTrue(small.poolCapacity() >= initial + 200, "pool did not grow: " + small.poolCapacity());
            assertEquals(1, small.transferStats().poolGrowths());
            assertArrayEquals(kept, small.downloadFloats(Strided.contiguous(keep, new int[]{200})), "data lost in growth");
            assertEquals(initial, big.size());
            int capacity = small.poolCapacity();
            // garbage storages are recycled instead of growing the pool without bound
            for (int i = 0; i < 40; i++) small.allocate(DType.FLOAT32, capacity / 4);
            assertTrue(small.transferStats().poolGrowths() <= 2, "pool grew " + small.transferStats().poolGrowths() + " times");
            assertArrayEquals(kept, small.downloadFloats(Strided.contiguous(keep, new int[]{200})), "data lost");
        } finally {
            if (old == null) System.clearProperty("grad4j.opencl.poolFloats");
            else System.setProperty("grad4j.opencl.poolFloats", old);
        }
    }

    @Test
    void rejectsStoragesOfOtherBackends() {
        Backend other = REF;
        Storage s = other.allocate(DType.FLOAT32, 3);
        Storage o = cl.allocate(DType.FLOAT32, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cl.unary(UnaryOp.NEG, Strided.contiguous(s, new int[]{3}), Strided.contiguous(o, new int[]{3}), 0, 0));
        assertTrue(e.getMessage().contains("not on this opencl backend"), e.getMessage());
    }
}
