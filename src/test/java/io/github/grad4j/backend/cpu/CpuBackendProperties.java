package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Every optimized kernel of the CPU backend against the reference backend on awkward shapes
 * (1, primes, one off the vector width and the blocking sizes) and layouts (transposed, narrowed
 * with gaps, offset, stride-0 broadcast, strided outputs). Inputs are identical float32 data in
 * identical layouts on both backends; outputs start filled with a sentinel so that unwritten or
 * overwritten elements show.
 */
class CpuBackendProperties {
    static final Backend REF = ReferenceBackend.INSTANCE;
    static final CpuBackend CPU = CpuBackend.create();
    static final CpuBackend SCALAR = CpuBackend.create(2, false);
    static final float SENTINEL = 7.25f;
    /** The control for Winograd's convolutions: the same kernels, direct convolutions only. */
    static final CpuBackend DIRECT = CPU.withDirectConvolutions();

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.of(1, 2, 3, 5, 7, 8, 13, 15, 16, 17, 31, 32, 33, 47, 64, 97);
    }

    @Provide
    Arbitrary<Integer> depths() {
        return Arbitraries.of(0, 1, 2, 7, 17, 33, 255, 256, 257, 300, 520);
    }

    // ---------------------------------------------------------------- layouts

    /** A logical view (shape, strides, offset) and the storage size it needs. */
    record Layout(int offset, int[] shape, int[] strides, int size) {
        Strided on(Storage s) {
            return new Strided(s, offset, shape, strides);
        }
    }

    /**
     * A random layout of {@code shape}: axes stored in a random order (transposes), some with gaps
     * (narrowed views), a random offset, and, when {@code broadcast}, some axes of stride 0.
     */
    static Layout layout(int[] shape, SplittableRandom rng, boolean broadcast) {
        int rank = shape.length;
        Integer[] order = new Integer[rank];
        for (int d = 0; d < rank; d++) order[d] = d;
        if (rng.nextInt(3) == 0) { // shuffle the storage order of the axes
            for (int d = rank - 1; d > 0; d--) {
                int j = rng.nextInt(d + 1);
                Integer t = order[d]; order[d] = order[j]; order[j] = t;
            }
        }
        int[] strides = new int[rank];
        int s = 1 + (rng.nextInt(6) == 0 ? 1 : 0); // sometimes every element has a gap
        for (int i = rank - 1; i >= 0; i--) {
            int d = order[i];
            if (broadcast && rng.nextInt(5) == 0) {
                strides[d] = 0;
                continue;
            }
            strides[d] = s;
            s *= shape[d] + (rng.nextInt(4) == 0 ? rng.nextInt(3) + 1 : 0); // narrowed
        }
        int offset = rng.nextInt(4);
        int max = offset;
        for (int d = 0; d < rank; d++) max += Math.max(shape[d] - 1, 0) * strides[d];
        return new Layout(offset, shape, strides, max + 1);
    }

    static Layout contiguous(int[] shape) {
        int n = 1;
        for (int v : shape) n *= v;
        return new Layout(0, shape, Strided.rowMajorStrides(shape), n);
    }

    static float[] randomData(int n, SplittableRandom rng, boolean specials) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) (rng.nextDouble() * 2 - 1);
        if (specials && n > 0) {
            float[] sp = {Float.NaN, 0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f, 2f};
            for (int i = 0; i < Math.max(1, n / 10); i++) d[rng.nextInt(n)] = sp[rng.nextInt(sp.length)];
        }
        return d;
    }

    /** Multiples of 1/8 in [-1, 1]: sums and products of these are exact in float32 at test sizes. */
    static float[] quantizedData(int n, SplittableRandom rng) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (rng.nextInt(17) - 8) / 8f;
        return d;
    }

    static float[] filled(int n) {
        float[] d = new float[n];
        Arrays.fill(d, SENTINEL);
        return d;
    }

    /** The same floats on both backends, viewed through the same layout. */
    static Strided[] pair(Layout l, float[] data) {
        return new Strided[]{l.on(REF.upload(data)), l.on(CPU.upload(data))};
    }

    static Strided on(Backend b, Layout l, float[] data) {
        return l.on(b.upload(data));
    }

    /** Whole storages compared bit for bit (NaNs of any payload are equal). */
    static void assertSameFloats(Strided expected, Strided actual, String what) {
        float[] e = ((io.github.grad4j.backend.HeapStorage) expected.storage()).floats();
        float[] a = ((io.github.grad4j.backend.HeapStorage) actual.storage()).floats();
        for (int i = 0; i < e.length; i++) {
            if (Float.compare(e[i], a[i]) != 0 && !(Float.isNaN(e[i]) && Float.isNaN(a[i]))) {
                fail(what + ": storage element " + i + " expected " + e[i] + " but was " + a[i]
                        + " (out " + expected + ")");
            }
        }
    }

    static void assertClose(Strided expected, Strided actual, double tol, String what) {
        float[] e = ((io.github.grad4j.backend.HeapStorage) expected.storage()).floats();
        float[] a = ((io.github.grad4j.backend.HeapStorage) actual.storage()).floats();
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(e[i]) && Float.isNaN(a[i])) continue;
            double t = tol * (1 + Math.abs(e[i]));
            if (!(Math.abs(e[i] - a[i]) <= t) && Float.compare(e[i], a[i]) != 0) {
                fail(what + ": storage element " + i + " expected " + e[i] + " but was " + a[i] + " (tol " + t + ")");
            }
        }
    }

    static int[] shapeOf(SplittableRandom rng, int rank, int[] choices) {
        int[] s = new int[rank];
        for (int d = 0; d < rank; d++) s[d] = choices[rng.nextInt(choices.length)];
        return s;
    }

    static final int[] SMALL = {1, 2, 3, 5, 7, 15, 16, 17, 31, 33};

    // ---------------------------------------------------------------- GEMM

    /** out = x y on the reference and on the given backend; returns {reference out, backend out}. */
    static Strided[] matmul(Backend b, int[] batch, int m, int k, int n, SplittableRandom rng, boolean stridedOut) {
        return matmul(b, batch, m, k, n, rng, stridedOut, false);
    }

    static Strided[] matmul(Backend b, int[] batch, int m, int k, int n, SplittableRandom rng, boolean stridedOut,
                            boolean quantized) {
        int[] xs = concat(batch, m, k), ys = concat(batch, k, n), os = concat(batch, m, n);
        Layout lx = layout(xs, rng, false), ly = layout(ys, rng, false);
        // stride-0 batch broadcasting for one operand
        if (batch.length > 0 && rng.nextBoolean()) {
            Layout l = rng.nextBoolean() ? lx : ly;
            l.strides()[rng.nextInt(batch.length)] = 0;
        }
        Layout lo = stridedOut ? layout(os, rng, false) : contiguous(os);
        float[] dx = quantized ? quantizedData(lx.size(), rng) : randomData(lx.size(), rng, false);
        float[] dy = quantized ? quantizedData(ly.size(), rng) : randomData(ly.size(), rng, false);
        Strided ro = on(REF, lo, filled(lo.size())), bo = on(b, lo, filled(lo.size()));
        REF.matmul(on(REF, lx, dx), on(REF, ly, dy), ro);
        b.matmul(on(b, lx, dx), on(b, ly, dy), bo);
        return new Strided[]{ro, bo};
    }

    static int[] concat(int[] batch, int a, int b) {
        int[] s = Arrays.copyOf(batch, batch.length + 2);
        s[batch.length] = a;
        s[batch.length + 1] = b;
        return s;
    }

    static double gemmTol(int k) {
        // float32 accumulation of k products of values in [-1, 1], relative to the float64 result
        return 2e-6 * Math.sqrt(Math.max(k, 1)) * Math.sqrt(Math.max(k, 1) / 3.0 + 1);
    }

    @Property(tries = 150)
    void gemmMatchesReference(@ForAll("sizes") int m, @ForAll("depths") int k, @ForAll("sizes") int n,
                              @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] batch = shapeOf(rng, rng.nextInt(3), new int[]{1, 2, 3});
        Strided[] r = matmul(CPU, batch, m, k, n, rng, rng.nextInt(4) == 0);
        assertClose(r[0], r[1], gemmTol(k), "matmul " + m + "x" + k + "x" + n + " batch " + Arrays.toString(batch));
    }

    /** With multiples of 1/8 every partial sum is exact, so any indexing slip shows as inequality. */
    @Property(tries = 100)
    void gemmIsExactOnExactlyRepresentableData(@ForAll("sizes") int m, @ForAll("depths") int k, @ForAll("sizes") int n,
                                               @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] batch = shapeOf(rng, rng.nextInt(3), new int[]{1, 2, 3});
        Strided[] r = matmul(CPU, batch, m, k, n, rng, rng.nextInt(3) == 0, true);
        assertSameFloats(r[0], r[1], "matmul " + m + "x" + k + "x" + n + " batch " + Arrays.toString(batch));
    }

    @Example
    void gemmCrossesEveryBlockBoundary() {
        // M > MC, K > KC, N > NC, none a multiple of the register tile; transposed operands
        SplittableRandom rng = new SplittableRandom(3);
        for (int t = 0; t < 2; t++) {
            int m = Gemm.MC + 9, k = Gemm.KC * 2 + 3, n = Gemm.NC + 37;
            Strided[] r = matmul(CPU, new int[0], m, k, n, rng, t == 1);
            assertClose(r[0], r[1], gemmTol(k), "matmul " + m + "x" + k + "x" + n);
        }
    }

    /** GEMM results do not depend on the thread count, nor on vector versus scalar loops. */
    @Property(tries = 40)
    void gemmIsBitwiseDeterministic(@ForAll("sizes") int m, @ForAll("depths") int k, @ForAll long seed) {
        int n = 1 + new SplittableRandom(seed).nextInt(300);
        Backend[] backends = {CpuBackend.create(1, true), CPU, CpuBackend.create(3, true), SCALAR};
        Strided first = null;
        for (Backend b : backends) {
            Strided[] r = matmul(b, new int[]{2}, m * 3, k, n, new SplittableRandom(seed), false);
            if (first == null) first = r[1];
            else assertSameFloats(first, r[1], b + " matmul " + m * 3 + "x" + k + "x" + n);
        }
    }

    /**
     * One-row products large enough for the GEMV path (generation with the KV cache): row-major,
     * transposed and gapped B, widths around the task size (256 columns) and past it, against the
     * reference; on exactly representable data bit for bit; and the same bits for 1, 2 and 3 threads.
     */
    @Property(tries = 40)
    void gemvMatchesReference(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int k = new int[]{257, 300, 1031}[rng.nextInt(3)], n = new int[]{255, 256, 257, 1031}[rng.nextInt(4)];
        String what = "matmul 1x" + k + "x" + n;
        Strided[] r = matmul(CPU, new int[0], 1, k, n, rng, rng.nextBoolean());
        assertClose(r[0], r[1], gemmTol(k), what);
        Strided[] q = matmul(CPU, new int[0], 1, k, n, rng, false, true);
        assertSameFloats(q[0], q[1], what + " (exact data)");
        Strided first = null;
        for (Backend b : new Backend[]{CpuBackend.create(1, true), CpuBackend.create(2, true), CpuBackend.create(3, true)}) {
            Strided[] t = matmul(b, new int[0], 1, k, n, new SplittableRandom(seed), false);
            if (first == null) first = t[1];
            else assertSameFloats(first, t[1], what + " on " + b);
        }
    }

    // ---------------------------------------------------------------- elementwise

    /** Regression: rank-0 (scalar) operands, as a loss divided by a count, once crashed the coalescing. */
    @Example
    void scalarOperandsWork() {
        io.github.grad4j.backend.Storage a = CPU.upload(new float[]{6f}), b = CPU.upload(new float[]{4f});
        io.github.grad4j.backend.Storage out = CPU.allocate(io.github.grad4j.backend.DType.FLOAT32, 1);
        int[] none = new int[0];
        CPU.binary(BinaryOp.DIV, new Strided(a, 0, none, none), new Strided(b, 0, none, none), new Strided(out, 0, none, none));
        assertEquals(1.5, out.get(0));
        CPU.unary(io.github.grad4j.backend.UnaryOp.NEG, new Strided(a, 0, none, none), new Strided(out, 0, none, none), 0, 0);
        assertEquals(-6.0, out.get(0));
    }

    @Property(tries = 300)
    void binaryMatchesReferenceExactly(@ForAll BinaryOp op, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] shape = shapeOf(rng, 1 + rng.nextInt(4), SMALL);
        Layout lx = layout(shape, rng, true), ly = layout(shape, rng, true);
        Layout lo = rng.nextInt(4) == 0 ? layout(shape, rng, false) : contiguous(shape);
        float[] dx = randomData(lx.size(), rng, true), dy = randomData(ly.size(), rng, true);
        for (CpuBackend b : new CpuBackend[]{CPU, SCALAR}) {
            Strided ro = on(REF, lo, filled(lo.size())), bo = on(b, lo, filled(lo.size()));
            REF.binary(op, on(REF, lx, dx), on(REF, ly, dy), ro);
            b.binary(op, on(b, lx, dx), on(b, ly, dy), bo);
            assertSameFloats(ro, bo, op + " " + Arrays.toString(shape) + " on " + b.describe());
        }
    }

    @Property(tries = 300)
    void unaryMatchesReferenceExactly(@ForAll UnaryOp op, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] shape = shapeOf(rng, 1 + rng.nextInt(4), SMALL);
        Layout lx = layout(shape, rng, true);
        Layout lo = rng.nextInt(4) == 0 ? layout(shape, rng, false) : contiguous(shape);
        float[] dx = randomData(lx.size(), rng, true);
        double a = op == UnaryOp.POW_SCALAR ? 3 : rng.nextDouble() - 0.7, b = a + rng.nextDouble();
        Strided ro = on(REF, lo, filled(lo.size())), co = on(CPU, lo, filled(lo.size()));
        REF.unary(op, on(REF, lx, dx), ro, a, b);
        CPU.unary(op, on(CPU, lx, dx), co, a, b);
        switch (op) {
            case EXP: case LOG: case TANH: case SIGMOID: case GELU_TANH:
                // vectorized (SVML) transcendentals: a few ulp, see CpuFastPathsTest for the bounds
                assertCloseFloats(ro, co, 4, op + " " + Arrays.toString(shape));
                break;
            default:
                assertSameFloats(ro, co, op + " " + Arrays.toString(shape));
        }
    }

    /** Whole storages within {@code maxUlp} units in the last place (or 1e-9 absolute near zero). */
    static void assertCloseFloats(Strided expected, Strided actual, long maxUlp, String what) {
        float[] e = ((io.github.grad4j.backend.HeapStorage) expected.storage()).floats();
        float[] a = ((io.github.grad4j.backend.HeapStorage) actual.storage()).floats();
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(e[i] - a[i]) <= 1e-9) continue;
            if (CpuFastPathsTest.ulps(e[i], a[i]) > maxUlp) {
                fail(what + ": storage element " + i + " expected " + e[i] + " but was " + a[i] + " (out " + expected + ")");
            }
        }
    }

    @Property(tries = 200)
    void copyAndWhereMatchReferenceExactly(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] shape = shapeOf(rng, 1 + rng.nextInt(4), SMALL);
        Layout lx = layout(shape, rng, true), ly = layout(shape, rng, true), lc = layout(shape, rng, true);
        Layout lo = rng.nextInt(3) == 0 ? layout(shape, rng, false) : contiguous(shape);
        float[] dx = randomData(lx.size(), rng, true), dy = randomData(ly.size(), rng, true);
        float[] dc = randomData(lc.size(), rng, false);
        for (int i = 0; i < dc.length; i++) dc[i] = dc[i] > 0 ? 1 : 0;
        Strided ro = on(REF, lo, filled(lo.size())), co = on(CPU, lo, filled(lo.size()));
        REF.copy(on(REF, lx, dx), ro);
        CPU.copy(on(CPU, lx, dx), co);
        assertSameFloats(ro, co, "copy " + Arrays.toString(shape));
        ro = on(REF, lo, filled(lo.size()));
        co = on(CPU, lo, filled(lo.size()));
        REF.where(on(REF, lc, dc), on(REF, lx, dx), on(REF, ly, dy), ro);
        CPU.where(on(CPU, lc, dc), on(CPU, lx, dx), on(CPU, ly, dy), co);
        assertSameFloats(ro, co, "where " + Arrays.toString(shape));
    }

    // ---------------------------------------------------------------- reductions

    @Property(tries = 300)
    void reduceMatchesReference(@ForAll ReduceOp op, @ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int rank = 1 + rng.nextInt(4);
        int[] shape = shapeOf(rng, rank, new int[]{1, 2, 3, 5, 16, 17, 33, 97});
        boolean[] mask = new boolean[rank];
        int mode = rng.nextInt(4); // 0: trailing axes, 1: leading axes, 2: one axis with indices, 3: random
        int cut = rng.nextInt(rank + 1);
        for (int d = 0; d < rank; d++) {
            mask[d] = mode == 0 ? d >= cut : mode == 1 ? d < cut : mode == 3 && rng.nextBoolean();
        }
        boolean withIndices = mode == 2 && op != ReduceOp.SUM;
        if (mode == 2) mask[rng.nextBoolean() ? rank - 1 : rng.nextInt(rank)] = true;
        boolean any = false;
        for (boolean x : mask) any |= x;
        if (!any) mask[rank - 1] = true;
        Layout lx = rng.nextBoolean() ? contiguous(shape) : layout(shape, rng, true);
        int[] outShape = shape.clone();
        for (int d = 0; d < rank; d++) if (mask[d]) outShape[d] = 1;
        Layout lo = contiguous(outShape);
        // SUM on multiples of 1/8 is exact in float32, so it must match the reference exactly
        float[] dx = op == ReduceOp.SUM ? quantizedData(lx.size(), rng)
                : randomData(lx.size(), rng, rng.nextInt(4) == 0);
        Strided ro = on(REF, lo, filled(lo.size())), co = on(CPU, lo, filled(lo.size()));
        Strided ri = null, ci = null;
        if (withIndices) {
            ri = lo.on(REF.allocate(DType.INT32, lo.size()));
            ci = lo.on(CPU.allocate(DType.INT32, lo.size()));
        }
        REF.reduce(op, on(REF, lx, dx), mask, ro, ri);
        CPU.reduce(op, on(CPU, lx, dx), mask, co, ci);
        String what = op + " " + Arrays.toString(shape) + " over " + Arrays.toString(mask) + " strides " + Arrays.toString(lx.strides());
        assertClose(ro, co, 0, what); // equal values (a max/min of +0 and -0 may differ in sign)
        if (withIndices) {
            assertArrayEquals(REF.download(ri), CPU.download(ci), what + " indices");
        }
    }

    /**
     * Batch norm's fused loops, vector and scalar, against the reference's composite (float64
     * rounded): spatial sizes below, at and past the vector width, values far from zero.
     */
    @Property(tries = 30)
    void batchNormKernelsMatchReference(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 1 + rng.nextInt(4), c = 1 + rng.nextInt(5), s = 1 + rng.nextInt(40);
        int[] shape = {n, c, s};
        Layout l = contiguous(shape), lc = contiguous(new int[]{c});
        float[] x = randomData(l.size(), rng, false), g = randomData(l.size(), rng, false);
        float offset = rng.nextBoolean() ? 0f : 30f;
        for (int i = 0; i < x.length; i++) x[i] += offset;
        float[] w = randomData(c, rng, false), b = randomData(c, rng, false);
        double[][] expected = null;
        for (Backend be : new Backend[]{REF, CPU, SCALAR}) {
            Strided out = on(be, l, filled(l.size())), mean = on(be, lc, filled(c)), var = on(be, lc, filled(c)), rstd = on(be, lc, filled(c));
            Strided gx = on(be, l, filled(l.size())), gw = on(be, lc, filled(c)), gb = on(be, lc, filled(c));
            be.batchNormChannels(on(be, l, x), on(be, lc, w), on(be, lc, b), 1e-5, out, mean, var, rstd);
            be.batchNormChannelsBackward(on(be, l, g), on(be, l, x), on(be, lc, w), mean, rstd, gx, gw, gb);
            double[][] got = {be.download(out), be.download(mean), be.download(var), be.download(gx), be.download(gw), be.download(gb)};
            if (expected == null) {
                expected = got;
                continue;
            }
            String[] names = {"out", "mean", "var", "gradX", "gradWeight", "gradBias"};
            for (int k = 0; k < got.length; k++) {
                double scale = k == 4 || k == 5 ? n * s : 1;
                assertArrayEquals(expected[k], got[k], 2e-4 * scale * (1 + offset / 10),
                        names[k] + " " + Arrays.toString(shape) + " offset " + offset + " on " + be.name() + " " + ((CpuBackend) be).describe());
            }
        }
    }

    // ---------------------------------------------------------------- convolution helpers

    /**
     * dots4 (the first layer's weight gradient) gives exactly the bits of four dot calls, vector
     * and scalar: lengths below, at and past the vector width, rows overlapping or apart.
     */
    @Property(tries = 40)
    void dots4IsFourDots(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = rng.nextInt(70), stride = rng.nextBoolean() ? n : 1 + rng.nextInt(80), ao = rng.nextInt(5), bo = rng.nextInt(5);
        float[] a = randomData(ao + n, rng, false), b = randomData(bo + 3 * stride + n, rng, false);
        for (Kernels k : new Kernels[]{new ScalarKernels(), new VectorKernels()}) {
            float[] out = new float[6];
            k.dots4(a, ao, b, bo, stride, n, out, 1);
            for (int j = 0; j < 4; j++) {
                assertEquals(k.dot(a, ao, b, bo + j * stride, n), out[1 + j], 0f, "dot " + j + " of length " + n + ", " + k.describe());
            }
        }
    }

    /**
     * The plane convolution of the recomputing convolution block, vector and scalar: the forward
     * gives exactly the bits of the fused multiply-adds in tap order from zero, then the bias (what
     * gemmTile gives on unfolded columns), and the weight gradient matches a double-precision sum;
     * one-channel 3x3 windows (their own vector kernel) and other windows, rows from the vector width
     * to past two vectors, one to a few rows, an offset into the padded planes.
     */
    @Property(tries = 60)
    void convolutionPlaneKernelsMatchTheirDefinition(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int lanes = new VectorKernels().lanes();
        int oh = 1 + rng.nextInt(6), ow = lanes + rng.nextInt(2 * lanes + 3);
        boolean oneChannel3x3 = rng.nextBoolean();
        int channels = oneChannel3x3 ? 1 : 1 + rng.nextInt(3), kh = oneChannel3x3 ? 3 : 1 + rng.nextInt(3), kw = oneChannel3x3 ? 3 : 1 + rng.nextInt(3);
        int rowStride = ow + kw - 1 + rng.nextInt(3), plane = (oh + kh - 1) * rowStride, inOff = rng.nextInt(4);
        int taps = channels * kh * kw;
        int[] offsets = new int[taps];
        for (int c = 0, t = 0; c < channels; c++)
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++) offsets[t++] = c * plane + i * rowStride + j;
        float[] in = randomData(inOff + channels * plane, rng, false), w = randomData(taps + 2, rng, false);
        float[] g = randomData(oh * ow + 3, rng, false);
        boolean addBias = rng.nextBoolean();
        float bias = (float) rng.nextGaussian();
        float[] expected = new float[oh * ow];
        double[] expectedWeights = new double[taps];
        for (int r = 0; r < oh; r++)
            for (int c = 0; c < ow; c++) {
                float acc = 0f;
                for (int t = 0; t < taps; t++) {
                    float v = in[inOff + offsets[t] + r * rowStride + c];
                    acc = Math.fma(w[2 + t], v, acc);
                    expectedWeights[t] += (double) g[3 + r * ow + c] * v;
                }
                expected[r * ow + c] = addBias ? acc + bias : acc;
            }
        String what = oh + "x" + ow + " output, " + channels + " channel(s) " + kh + "x" + kw + ", row stride " + rowStride;
        for (Kernels k : new Kernels[]{new ScalarKernels(), new VectorKernels()}) {
            float[] out = new float[oh * ow + 1];
            k.convolvePlane(in, inOff, rowStride, offsets, taps, w, 2, addBias, bias, out, 1, oh, ow);
            assertArrayEquals(expected, Arrays.copyOfRange(out, 1, out.length), 0f, "convolvePlane " + what + ", " + k.describe());
            float[] dw = new float[taps + 1];
            dw[0] = 5f;
            k.convolvePlaneWeights(in, inOff, rowStride, offsets, taps, g, 3, oh, ow, dw, 1);
            assertEquals(5f, dw[0], 0f, "convolvePlaneWeights writes only its taps");
            for (int t = 0; t < taps; t++) {
                assertEquals(expectedWeights[t], dw[1 + t], 1e-5 * (1 + oh * ow), "convolvePlaneWeights tap " + t + " " + what + ", " + k.describe());
            }
        }
    }

    /** Conv-4's 2x2 stride-2 pooling has its own loops (vector and scalar): odd sizes, ties, NaN and infinities. */
    @Property(tries = 60)
    void maxPool2x2FastPathMatchesReference(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        // sizes up to 40: pooled planes of more than one vector of windows, rows shorter and longer than it
        int n = 1 + rng.nextInt(3), c = 1 + rng.nextInt(4), h = 2 + rng.nextInt(39), w = 2 + rng.nextInt(39);
        int[] img = {n, c, h, w}, pooled = {n, c, h / 2, w / 2};
        Layout li = contiguous(img), lp = contiguous(pooled);
        // coarse values make ties common; specials put NaN and infinities in some windows
        float[] dx = rng.nextBoolean() ? quantizedData(li.size(), rng) : randomData(li.size(), rng, true);
        Strided ro = on(REF, lp, filled(lp.size()));
        Strided ri = lp.on(REF.allocate(DType.INT32, lp.size()));
        REF.maxPool2d(on(REF, li, dx), 2, 2, 2, 2, 0, 0, ro, ri);
        for (CpuBackend b : new CpuBackend[]{CPU, SCALAR}) {
            Strided co = on(b, lp, filled(lp.size())), ci = lp.on(b.allocate(DType.INT32, lp.size()));
            b.maxPool2d(on(b, li, dx), 2, 2, 2, 2, 0, 0, co, ci);
            assertSameFloats(ro, co, "maxPool2d 2x2 " + Arrays.toString(img) + " on " + b.describe());
            assertArrayEquals(REF.download(ri), b.download(ci), "maxPool2d 2x2 indices " + Arrays.toString(img) + " on " + b.describe());
        }
    }

    @Property(tries = 120)
    void im2colCol2imMaxPoolMatchReference(@ForAll long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 1 + rng.nextInt(3), c = 1 + rng.nextInt(4);
        int k = 1 + rng.nextInt(4), stride = 1 + rng.nextInt(3), pad = rng.nextInt(k);
        int h = k + rng.nextInt(12), w = k + rng.nextInt(12);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        int[] img = {n, c, h, w}, cols = {n, c * k * k, oh * ow};
        Layout li = contiguous(img), lc = contiguous(cols);
        float[] dx = randomData(li.size(), rng, false);
        String what = "N,C,H,W " + Arrays.toString(img) + " k " + k + " stride " + stride + " pad " + pad;

        Strided ro = on(REF, lc, filled(lc.size())), co = on(CPU, lc, filled(lc.size()));
        REF.im2col(on(REF, li, dx), k, k, stride, stride, pad, pad, ro);
        CPU.im2col(on(CPU, li, dx), k, k, stride, stride, pad, pad, co);
        assertSameFloats(ro, co, "im2col " + what);

        float[] dc = randomData(lc.size(), rng, false);
        ro = on(REF, li, filled(li.size()));
        co = on(CPU, li, filled(li.size()));
        REF.col2im(on(REF, lc, dc), k, k, stride, stride, pad, pad, ro);
        CPU.col2im(on(CPU, lc, dc), k, k, stride, stride, pad, pad, co);
        assertClose(ro, co, 1e-6 * k * k, "col2im " + what);

        if (2 * pad <= k) {
            int[] pooled = {n, c, oh, ow};
            Layout lp = contiguous(pooled);
            float[] dp = randomData(li.size(), rng, rng.nextBoolean());
            ro = on(REF, lp, filled(lp.size()));
            co = on(CPU, lp, filled(lp.size()));
            Strided ri = lp.on(REF.allocate(DType.INT32, lp.size())), ci = lp.on(CPU.allocate(DType.INT32, lp.size()));
            REF.maxPool2d(on(REF, li, dp), k, k, stride, stride, pad, pad, ro, ri);
            CPU.maxPool2d(on(CPU, li, dp), k, k, stride, stride, pad, pad, co, ci);
            assertSameFloats(ro, co, "maxPool2d " + what);
            assertArrayEquals(REF.download(ri), CPU.download(ci), "maxPool2d indices " + what);
        }
    }

    // ---------------------------------------------------------------- backend

    @Example
    void reportsWhichLoopsRun() {
        assertEquals("cpu", CPU.name());
        assertTrue(CPU.vectorized(), "tests run with --add-modules jdk.incubator.vector: " + CPU.describe());
        assertFalse(SCALAR.vectorized());
        assertSame(CPU, CpuBackend.create());
        Storage s = CPU.allocate(DType.FLOAT32, 3);
        assertSame(CPU, s.backend());
    }

    // ---------------------------------------------------------------- Winograd convolution

    /**
     * Winograd F(2x2, 3x3) (3x3 windows, stride 1, 48+ channels, batches that fill their groups of
     * 16 images to within a quarter; the weight gradient from 16 channels; the shapes are drawn so
     * that it applies) against the
     * reference's direct loops, forward, input gradient and weight gradient, vector and scalar kernels
     * (and the backend without Winograd, the control that benchmarks compare with). The data are
     * multiples of 1/16 in [-1, 1] (weights of 1/4), so the transforms' halves and every partial sum are
     * exact and both sides must agree bit for bit: any tile, lane or channel slip shows. Odd sizes
     * leave tiles hanging past the edge; padding 0 to 2 (the input gradient's is 2 - p).
     */
    @Property(tries = 30)
    void winogradConvolutionMatchesTheReferenceExactly(@ForAll long seed) {
        assertFalse(DIRECT.winograd(), DIRECT.describe());
        SplittableRandom rng = new SplittableRandom(seed);
        int groups = 1 + rng.nextInt(2), n = 16 * groups - rng.nextInt(4 * groups); // within a quarter of full
        // 48+ channels: every kernel goes through Winograd; 16-24: the weight gradient of outputs of 8x8 and more only
        int base = rng.nextBoolean() ? 48 : 16;
        int c = base + rng.nextInt(9), o = base + rng.nextInt(11), pad = rng.nextInt(3);
        int h = 3 + rng.nextInt(10) + (pad == 0 ? 2 : 0), w = 3 + rng.nextInt(10) + (pad == 0 ? 2 : 0);
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        float[] x = fractions(rng, n * c * h * w, 16), weight = fractions(rng, o * c * 9, 4), bias = fractions(rng, o, 16);
        float[] g = fractions(rng, n * o * oh * ow, 16);
        String what = "winograd n=" + n + " c=" + c + " o=" + o + " " + h + "x" + w + " pad " + pad;
        Strided[] expected = convolutions(REF, x, weight, bias, g, n, c, o, h, w, pad);
        for (CpuBackend b : new CpuBackend[]{CPU, SCALAR, DIRECT}) {
            Strided[] actual = convolutions(b, x, weight, bias, g, n, c, o, h, w, pad);
            assertSameFloats(expected[0], actual[0], what + " conv2d on " + b.describe());
            assertSameFloats(expected[1], actual[1], what + " conv2dBackwardInput on " + b.describe());
        }
        // the weight and bias gradients (any batch: images are not grouped there), on quarters so
        // that the sums over all tiles and images stay exact too
        float[] xq = fractions(rng, n * c * h * w, 4), gq = fractions(rng, n * o * oh * ow, 4);
        Strided[] expectedWeight = weightGradients(REF, xq, gq, n, c, o, h, w, pad);
        for (CpuBackend b : new CpuBackend[]{CPU, SCALAR, DIRECT}) {
            Strided[] actual = weightGradients(b, xq, gq, n, c, o, h, w, pad);
            assertSameFloats(expectedWeight[0], actual[0], what + " conv2dBackwardWeight on " + b.describe());
            assertSameFloats(expectedWeight[1], actual[1], what + " conv2dBackwardWeightAndBias (bias) on " + b.describe());
        }
    }

    /** The weight gradient and, from the combined op, the bias gradient of a 3x3 stride-1 convolution on backend b. */
    private static Strided[] weightGradients(Backend b, float[] x, float[] g, int n, int c, int o, int h, int w, int pad) {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        Strided xs = Strided.contiguous(b.upload(x.clone()), new int[]{n, c, h, w});
        Strided gs = Strided.contiguous(b.upload(g.clone()), new int[]{n, o, oh, ow});
        Strided gradW = Strided.contiguous(b.allocate(DType.FLOAT32, o * c * 9), new int[]{o, c, 3, 3});
        Strided gradW2 = Strided.contiguous(b.allocate(DType.FLOAT32, o * c * 9), new int[]{o, c, 3, 3});
        Strided gradB = Strided.contiguous(b.allocate(DType.FLOAT32, o), new int[]{o});
        b.conv2dBackwardWeight(xs, gs, 1, 1, pad, pad, gradW);
        b.conv2dBackwardWeightAndBias(xs, gs, 1, 1, pad, pad, gradW2, gradB);
        assertSameFloats(gradW, gradW2, "weight gradient with and without the bias's on " + b);
        return new Strided[]{gradW, gradB};
    }

    /** n values k / denominator for -denominator &lt;= k &lt;= denominator: multiples of 1/denominator in [-1, 1]. */
    private static float[] fractions(SplittableRandom rng, int n, int denominator) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (rng.nextInt(2 * denominator + 1) - denominator) / (float) denominator;
        return f;
    }

    /** The forward (with bias) and the input gradient of one 3x3 stride-1 convolution on backend b. */
    private static Strided[] convolutions(Backend b, float[] x, float[] weight, float[] bias, float[] g, int n, int c, int o,
                                          int h, int w, int pad) {
        int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
        Strided xs = Strided.contiguous(b.upload(x.clone()), new int[]{n, c, h, w}), ws = Strided.contiguous(b.upload(weight.clone()), new int[]{o, c, 3, 3});
        Strided bs = Strided.contiguous(b.upload(bias.clone()), new int[]{o}), gs = Strided.contiguous(b.upload(g.clone()), new int[]{n, o, oh, ow});
        Strided out = Strided.contiguous(b.allocate(DType.FLOAT32, n * o * oh * ow), new int[]{n, o, oh, ow});
        Strided gradX = Strided.contiguous(b.allocate(DType.FLOAT32, n * c * h * w), new int[]{n, c, h, w});
        b.conv2d(xs, ws, bs, 1, 1, pad, pad, out);
        b.conv2dBackwardInput(gs, ws, 1, 1, pad, pad, gradX);
        return new Strided[]{out, gradX};
    }
}
