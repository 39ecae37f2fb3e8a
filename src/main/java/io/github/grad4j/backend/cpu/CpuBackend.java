package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.ConvShape;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.HeapStorage;
import io.github.grad4j.backend.Profiler;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;

import java.util.Arrays;

/**
 * The fast CPU backend ("cpu"): float32 kernels on heap arrays, vectorized with the Vector API
 * when {@code jdk.incubator.vector} is present, multithreaded over one reused ForkJoinPool.
 *
 * <p>Storage is the same {@link HeapStorage} as the reference backend's, owned by this backend.
 * Kernels without a float32 fast path (FLOAT64, INT32, solve, topk, indexing, ...) are inherited
 * from {@link ReferenceBackend}, the specification, so every op works on every dtype.
 *
 * <p>Without the Vector API module, {@link #create()} logs one warning to stderr and uses scalar
 * loops (same blocking and threading, several times slower GEMM); {@link #vectorized()} says which.
 * Launch with {@code --add-modules jdk.incubator.vector} (or see {@link VectorLauncher}).
 *
 * <p>Determinism: work is partitioned over outputs only, each output element is computed by one
 * thread in an order that does not depend on the thread count, so results are bitwise identical
 * for any number of threads and from run to run. They differ from the reference (float64) by
 * float32 rounding; elementwise ops that are exactly rounded in float32 (+, -, *, /, sqrt, max,
 * min, comparisons, and the unary ops computed in double then rounded) match it bit for bit.
 */
public final class CpuBackend extends ReferenceBackend {
    /** The incubator module holding the Vector API. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";

    /** Work (elements, or multiply-adds for GEMM) below which a kernel stays on the calling thread. */
    private static final int GRAIN = 1 << 15;

    private static volatile CpuBackend shared;

    /**
     * Whether new backends compute 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3) where it
     * applies (the default); {@code -Dgrad4j.winograd=false} keeps the direct kernels everywhere
     * (Winograd spreads a non-finite input over its 2x2 block of outputs; see WinogradConvolution).
     */
    static final boolean WINOGRAD_DEFAULT = !"false".equals(System.getProperty("grad4j.winograd"));

    private final Kernels kernels;
    private final Gemm gemm;
    private final Parallel parallel;
    private final FusedKernels fused;
    private final ConvKernels convolutions;
    private final ConvolutionBlock convolutionBlocks;
    private final boolean vectorized;

    private CpuBackend(Kernels kernels, boolean vectorized, int threads, boolean winograd) {
        this.kernels = kernels;
        this.vectorized = vectorized;
        this.gemm = new Gemm(kernels);
        this.parallel = new Parallel(threads);
        this.fused = new FusedKernels(kernels, parallel);
        this.convolutions = new ConvKernels(gemm, kernels, parallel, winograd);
        this.convolutionBlocks = new ConvolutionBlock(convolutions, fused, kernels, parallel);
    }

    /**
     * This backend's kernels and thread count with direct convolution kernels only (no Winograd):
     * the control for comparisons (a new backend with its own threads).
     */
    public CpuBackend withDirectConvolutions() {
        return new CpuBackend(kernels, vectorized, parallel.threads(), false);
    }

    /** The shared instance: all available processors, Vector API when present. */
    public static CpuBackend create() {
        CpuBackend b = shared;
        if (b == null) {
            synchronized (CpuBackend.class) {
                b = shared;
                if (b == null) shared = b = create(Runtime.getRuntime().availableProcessors(), true);
            }
        }
        return b;
    }

    /**
     * A new backend with its own pool of {@code threads} threads; {@code useVector=false} forces the
     * scalar loops (for tests and benchmarks of the fallback).
     */
    public static CpuBackend create(int threads, boolean useVector) {
        Kernels k = null;
        if (useVector) {
            if (vectorApiAvailable()) {
                try {
                    k = (Kernels) Class.forName("io.github.grad4j.backend.cpu.VectorKernels")
                            .getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | LinkageError e) {
                    System.err.println("grad4j: WARNING: the Vector API could not be loaded (" + e
                            + "); the cpu backend uses scalar loops");
                }
            } else {
                System.err.println("grad4j: WARNING: module " + VECTOR_MODULE + " is not present; the cpu backend"
                        + " uses scalar loops (several times slower). Run java with --add-modules " + VECTOR_MODULE);
            }
        }
        return k == null ? new CpuBackend(new ScalarKernels(), false, threads, WINOGRAD_DEFAULT)
                : new CpuBackend(k, true, threads, WINOGRAD_DEFAULT);
    }

    /** True when the running JVM resolved the jdk.incubator.vector module. */
    public static boolean vectorApiAvailable() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    @Override
    public String name() {
        return "cpu";
    }

    /** Whether 3x3 stride-1 convolutions go through Winograd's F(2x2, 3x3) where it applies. */
    public boolean winograd() {
        return convolutions.winograd();
    }

    /** Whether the Vector API kernels run (false: scalar fallback). */
    public boolean vectorized() {
        return vectorized;
    }

    public int threads() {
        return parallel.threads();
    }

    /** One line saying which loops run and on how many threads. */
    public String describe() {
        return kernels.describe() + ", " + parallel.threads() + " thread(s)"
                + (convolutions.winograd() ? "" : ", direct convolutions (no Winograd)");
    }

    // ---------------------------------------------------------------- helpers

    /** The float array behind a FLOAT32 heap view, or null. */
    private static float[] f32(Strided v) {
        Storage s = v.storage();
        return s instanceof HeapStorage h && s.dtype() == DType.FLOAT32 ? h.floats() : null;
    }

    private static int[] i32(Strided v) {
        Storage s = v.storage();
        return s instanceof HeapStorage h && s.dtype() == DType.INT32 ? h.ints() : null;
    }

    /**
     * Shapes and strides of several same-shape views with size-1 axes dropped and adjacent axes
     * merged wherever every view allows it. Result: [0] = shape, [1 + v] = strides of view v.
     */
    static int[][] coalesce(int[] shape, int[]... strides) {
        int rank = shape.length, views = strides.length;
        // room for one axis even at rank 0: a scalar is coalesced to shape [1]
        int[] sh = new int[Math.max(rank, 1)];
        int[][] st = new int[views][Math.max(rank, 1)];
        int r = 0;
        for (int d = 0; d < rank; d++) {
            if (shape[d] == 1) continue;
            if (r > 0) {
                boolean merge = true;
                for (int v = 0; v < views && merge; v++) merge = st[v][r - 1] == strides[v][d] * shape[d];
                if (merge) {
                    sh[r - 1] *= shape[d];
                    for (int v = 0; v < views; v++) st[v][r - 1] = strides[v][d];
                    continue;
                }
            }
            sh[r] = shape[d];
            for (int v = 0; v < views; v++) st[v][r] = strides[v][d];
            r++;
        }
        if (r == 0) { // a single element
            sh[0] = 1;
            r = 1;
        }
        int[][] out = new int[views + 1][];
        out[0] = Arrays.copyOf(sh, r);
        for (int v = 0; v < views; v++) out[v + 1] = Arrays.copyOf(st[v], r);
        return out;
    }

    /** Storage index (minus the view offset) of the start of row {@code row} over all axes but the last. */
    private static int rowOffset(int[] shape, int[] strides, int row) {
        int idx = 0;
        for (int d = shape.length - 2; d >= 0; d--) {
            int n = shape[d];
            idx += (row % n) * strides[d];
            row /= n;
        }
        return idx;
    }

    /** Body of an elementwise loop over one row segment: offsets of each view and a length. */
    @FunctionalInterface
    private interface Segment {
        void run(int[] offsets, int[] innerStrides, int n);
    }

    /**
     * Runs body over every row segment of views of a common shape, in parallel chunks of the
     * flat index space (each element visited once, by one thread).
     */
    private void elementwise(Strided[] views, Segment body) {
        int numel = views[0].numel();
        if (numel == 0) return;
        int[][] st = new int[views.length][];
        for (int v = 0; v < views.length; v++) st[v] = views[v].strides();
        int[][] c = coalesce(views[0].shape(), st);
        int[] shape = c[0];
        int rank = shape.length;
        int inner = shape[rank - 1];
        int[] innerStrides = new int[views.length];
        for (int v = 0; v < views.length; v++) innerStrides[v] = c[v + 1][rank - 1];
        parallel.forRange(numel, GRAIN, (start, end) -> {
            int[] off = new int[views.length];
            int flat = start;
            while (flat < end) {
                int row = flat / inner, col = flat % inner;
                int n = Math.min(inner - col, end - flat);
                for (int v = 0; v < views.length; v++) {
                    off[v] = views[v].offset() + rowOffset(shape, c[v + 1], row) + col * innerStrides[v];
                }
                body.run(off, innerStrides, n);
                flat += n;
            }
        });
    }

    // ---------------------------------------------------------------- profiled entry points

    // Profile keys of the per-layer ops name the layer, so a model's profile reads by layer:
    // "64x14x14" (an activation without its batch), "64>64 14x14" (channels in > out, output size).

    private static String layer(int[] activation) {
        StringBuilder sb = new StringBuilder();
        for (int d = 1; d < activation.length; d++) sb.append(d > 1 ? "x" : "").append(activation[d]);
        return sb.toString();
    }

    private static String layer(int[] image, int[] out) {
        return image[1] + ">" + out[1] + " " + out[2] + "x" + out[3];
    }

    @Override
    public void copy(Strided src, Strided dst) {
        long t0 = Profiler.start();
        try {
            copyImpl(src, dst);
        } finally {
            if (t0 != -1) Profiler.stop("copy", t0);
        }
    }

    @Override
    public void unary(UnaryOp op, Strided x, Strided out, double a, double b) {
        long t0 = Profiler.start();
        try {
            unaryImpl(op, x, out, a, b);
        } finally {
            if (t0 != -1) Profiler.stop("unary " + op, t0);
        }
    }

    @Override
    public void binary(BinaryOp op, Strided x, Strided y, Strided out) {
        long t0 = Profiler.start();
        try {
            binaryImpl(op, x, y, out);
        } finally {
            if (t0 != -1) Profiler.stop("binary " + op, t0);
        }
    }

    @Override
    public void where(Strided cond, Strided x, Strided y, Strided out) {
        long t0 = Profiler.start();
        try {
            whereImpl(cond, x, y, out);
        } finally {
            if (t0 != -1) Profiler.stop("where", t0);
        }
    }

    @Override
    public void reduce(ReduceOp op, Strided x, boolean[] reduceAxis, Strided out, Strided indices) {
        long t0 = Profiler.start();
        try {
            reduceImpl(op, x, reduceAxis, out, indices);
        } finally {
            if (t0 != -1) Profiler.stop("reduce " + op, t0);
        }
    }

    @Override
    public void matmul(Strided x, Strided y, Strided out) {
        long t0 = Profiler.start();
        try {
            matmulImpl(x, y, out);
        } finally {
            if (t0 != -1) Profiler.stop("matmul", t0);
        }
    }

    @Override
    public void im2col(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        long t0 = Profiler.start();
        try {
            im2colImpl(x, kh, kw, sh, sw, ph, pw, out);
        } finally {
            if (t0 != -1) Profiler.stop("im2col", t0);
        }
    }

    @Override
    public void col2im(Strided cols, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        long t0 = Profiler.start();
        try {
            col2imImpl(cols, kh, kw, sh, sw, ph, pw, out);
        } finally {
            if (t0 != -1) Profiler.stop("col2im", t0);
        }
    }

    @Override
    public void maxPool2d(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out, Strided indices) {
        long t0 = Profiler.start();
        try {
            maxPool2dImpl(x, kh, kw, sh, sw, ph, pw, out, indices);
        } finally {
            if (t0 != -1) Profiler.stop("maxPool2d", t0);
        }
    }

    // ---------------------------------------------------------------- storage

    @Override
    public float[] downloadFloats(Strided v) {
        float[] src = f32(v);
        if (src != null && v.isContiguous()) return Arrays.copyOfRange(src, v.offset(), v.offset() + v.numel());
        return super.downloadFloats(v);
    }

    // ---------------------------------------------------------------- elementwise

    private void copyImpl(Strided src, Strided dst) {
        float[] s = f32(src), d = f32(dst);
        if (s == null || d == null) {
            super.copy(src, dst);
            return;
        }
        elementwise(new Strided[]{dst, src}, (off, is, n) -> {
            if (is[0] == 1 && is[1] == 1) {
                System.arraycopy(s, off[1], d, off[0], n);
            } else {
                for (int i = 0, o = off[0], x = off[1]; i < n; i++, o += is[0], x += is[1]) d[o] = s[x];
            }
        });
    }

    private void unaryImpl(UnaryOp op, Strided x, Strided out, double a, double b) {
        float[] xs = f32(x), os = f32(out);
        if (xs == null || os == null) {
            super.unary(op, x, out, a, b);
            return;
        }
        float fa = (float) a, fb = (float) b;
        elementwise(new Strided[]{out, x}, (off, is, n) -> {
            if (is[0] == 1 && is[1] == 1 && kernels.unary(op, xs, off[1], os, off[0], n, fa, fb)) return;
            for (int i = 0, o = off[0], p = off[1]; i < n; i++, o += is[0], p += is[1]) {
                os[o] = (float) ReferenceBackend.unary(op, xs[p], a, b);
            }
        });
    }

    private void binaryImpl(BinaryOp op, Strided x, Strided y, Strided out) {
        float[] xs = f32(x), ys = f32(y), os = f32(out);
        if (xs == null || ys == null || os == null) {
            super.binary(op, x, y, out);
            return;
        }
        elementwise(new Strided[]{out, x, y}, (off, is, n) -> {
            if (is[0] == 1 && is[1] <= 1 && is[2] <= 1 && is[1] >= 0 && is[2] >= 0
                    && kernels.binary(op, xs, off[1], is[1], ys, off[2], is[2], os, off[0], n)) {
                return;
            }
            for (int i = 0, o = off[0], p = off[1], q = off[2]; i < n; i++, o += is[0], p += is[1], q += is[2]) {
                os[o] = ScalarKernels.binary(op, xs[p], ys[q]);
            }
        });
    }

    private void whereImpl(Strided cond, Strided x, Strided y, Strided out) {
        float[] cs = f32(cond), xs = f32(x), ys = f32(y), os = f32(out);
        if (cs == null || xs == null || ys == null || os == null) {
            super.where(cond, x, y, out);
            return;
        }
        elementwise(new Strided[]{out, cond, x, y}, (off, is, n) -> {
            for (int i = 0, o = off[0], c = off[1], p = off[2], q = off[3]; i < n;
                 i++, o += is[0], c += is[1], p += is[2], q += is[3]) {
                os[o] = cs[c] != 0 ? xs[p] : ys[q];
            }
        });
    }

    // ---------------------------------------------------------------- reductions

    private void reduceImpl(ReduceOp op, Strided x, boolean[] reduceAxis, Strided out, Strided indices) {
        float[] xs = f32(x), os = f32(out);
        int rank = x.rank();
        int[] shape = x.shape(), strides = x.strides();
        // Split the axes into a kept part and a reduced part; fast paths need one to follow the other.
        int first = -1, last = -1, reducedSize = 1, keptSize = 1;
        for (int d = 0; d < rank; d++) {
            if (reduceAxis[d]) {
                if (first < 0) first = d;
                last = d;
                reducedSize *= shape[d];
            } else {
                keptSize *= shape[d];
            }
        }
        boolean ok = xs != null && os != null && first >= 0 && reducedSize > 0 && keptSize > 0;
        for (int d = first; ok && d <= last; d++) ok = reduceAxis[d] || shape[d] == 1;
        if (ok && out.isContiguous() && indices == null) {
            if (last == rank - 1 || trailingOnes(shape, last + 1)) {
                // reduced axes trail: one contiguous run per output element
                if (isRowMajorBlock(shape, strides, first, rank)) {
                    reduceRows(op, xs, x, first, os, out.offset(), keptSize, reducedSize);
                    return;
                }
            } else if (first == 0 || leadingOnes(shape, first)) {
                // reduced axes lead, kept axes trail contiguously: add rows into the output
                if (isRowMajorBlock(shape, strides, last + 1, rank)) {
                    reduceColumns(op, xs, x.offset(), strides, shape, first, last, os, out.offset(), keptSize, reducedSize);
                    return;
                }
            }
        }
        if (xs != null && os != null && first >= 0 && reducedSize >= 64 && keptSize > 0 && out.isContiguous()
                && indices == null) {
            reduceGeneral(op, xs, x, reduceAxis, os, out.offset(), keptSize, reducedSize);
            return;
        }
        int[] idx = indices == null ? null : i32(indices);
        if (ok && indices != null && idx != null && first == last && (last == rank - 1 || trailingOnes(shape, last + 1))
                && (op == ReduceOp.MAX || op == ReduceOp.MIN) && strides[last] == 1
                && out.isContiguous() && indices.isContiguous()) {
            argReduceRows(op, xs, x, last, os, out.offset(), idx, indices.offset(), keptSize, shape[last]);
            return;
        }
        super.reduce(op, x, reduceAxis, out, indices);
    }

    /**
     * Any mix of kept and reduced axes (batch norm's (N, H, W) around C): each output sums its
     * elements one after another in row-major order of the reduced axes, on one thread.
     */
    private void reduceGeneral(ReduceOp op, float[] xs, Strided x, boolean[] reduceAxis, float[] os, int oOff,
                               int kept, int reduced) {
        int rank = x.rank();
        int[] shape = x.shape(), strides = x.strides();
        int[] redOff = new int[reduced];
        for (int r = 0; r < reduced; r++) {
            int rem = r, off = 0;
            for (int d = rank - 1; d >= 0; d--) {
                if (!reduceAxis[d]) continue;
                off += (rem % shape[d]) * strides[d];
                rem /= shape[d];
            }
            redOff[r] = off;
        }
        parallel.forRange(kept, Math.max(1, GRAIN / reduced), (k0, k1) -> {
            for (int k = k0; k < k1; k++) {
                int rem = k, base = x.offset();
                for (int d = rank - 1; d >= 0; d--) {
                    if (reduceAxis[d]) continue;
                    base += (rem % shape[d]) * strides[d];
                    rem /= shape[d];
                }
                float acc = xs[base + redOff[0]];
                for (int r = 1; r < reduced; r++) acc = ScalarKernels.combine(op, acc, xs[base + redOff[r]]);
                os[oOff + k] = acc;
            }
        });
    }

    private static boolean trailingOnes(int[] shape, int from) {
        for (int d = from; d < shape.length; d++) if (shape[d] != 1) return false;
        return true;
    }

    private static boolean leadingOnes(int[] shape, int to) {
        for (int d = 0; d < to; d++) if (shape[d] != 1) return false;
        return true;
    }

    /** Axes [from, to) are laid out row-major without gaps (size-1 axes ignored). */
    private static boolean isRowMajorBlock(int[] shape, int[] strides, int from, int to) {
        int expected = 1;
        for (int d = to - 1; d >= from; d--) {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    private void reduceRows(ReduceOp op, float[] xs, Strided x, int first, float[] os, int oOff, int rows, int len) {
        int[] shape = x.shape(), strides = x.strides();
        int[] keptShape = Arrays.copyOf(shape, first + 1), keptStrides = Arrays.copyOf(strides, first + 1);
        keptShape[first] = 1; // rowOffset ignores the last axis: walk the kept axes [0, first)
        parallel.forRange(rows, Math.max(1, GRAIN / len), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                os[oOff + r] = kernels.reduce(op, xs, x.offset() + rowOffset(keptShape, keptStrides, r), len);
            }
        });
    }

    private void reduceColumns(ReduceOp op, float[] xs, int xOff, int[] strides, int[] shape, int first, int last,
                               float[] os, int oOff, int cols, int rows) {
        // the reduced axes [first, last] as (shape, strides) so that row r starts at rowOffset(r)
        int[] rShape = Arrays.copyOfRange(shape, first, last + 2), rStrides = Arrays.copyOfRange(strides, first, last + 2);
        rShape[rShape.length - 1] = 1;
        int grain = Math.max(64, GRAIN / rows);
        parallel.forRange(cols, grain, (c0, c1) -> {
            int n = c1 - c0;
            System.arraycopy(xs, xOff + c0, os, oOff + c0, n);
            for (int r = 1; r < rows; r++) {
                kernels.accumulate(op, os, oOff + c0, xs, xOff + rowOffset(rShape, rStrides, r) + c0, n);
            }
        });
    }

    private void argReduceRows(ReduceOp op, float[] xs, Strided x, int axis, float[] os, int oOff,
                               int[] idx, int iOff, int rows, int len) {
        int[] keptShape = Arrays.copyOf(x.shape(), axis + 1), keptStrides = Arrays.copyOf(x.strides(), axis + 1);
        keptShape[axis] = 1;
        boolean max = op == ReduceOp.MAX;
        parallel.forRange(rows, Math.max(1, GRAIN / len), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int base = x.offset() + rowOffset(keptShape, keptStrides, r);
                float best = xs[base];
                int at = 0;
                if (best == best) {
                    for (int i = 1; i < len; i++) {
                        float e = xs[base + i];
                        if (max ? e > best : e < best) {
                            best = e;
                            at = i;
                        } else if (e != e) { // the first NaN wins, as in the reference
                            best = e;
                            at = i;
                            break;
                        }
                    }
                }
                os[oOff + r] = best;
                idx[iOff + r] = at;
            }
        });
    }

    // ---------------------------------------------------------------- matmul

    private void matmulImpl(Strided x, Strided y, Strided out) {
        float[] a = f32(x), b = f32(y), c = f32(out);
        if (a == null || b == null || c == null) {
            super.matmul(x, y, out);
            return;
        }
        int r = x.rank();
        int m = x.shape()[r - 2], k = x.shape()[r - 1], n = y.shape()[r - 1];
        if (m == 0 || n == 0) return;
        int[] xs = x.strides(), ys = y.strides(), cs = out.strides();
        int aRs = xs[r - 2], aCs = xs[r - 1], bRs = ys[r - 2], bCs = ys[r - 1], cRs = cs[r - 2], cCs = cs[r - 1];
        int batches = out.numel() / (m * n);
        if (m == 1 && batches == 1 && (long) k * n >= GEMV_WORK && (bCs == 1 || bRs == 1)) {
            gemv(a, x.offset(), aCs, b, y.offset(), bRs, bCs, c, out.offset(), cCs, k, n);
            return;
        }
        // storage offsets of each batch's matrices
        int[] aAt = new int[batches], bAt = new int[batches], cAt = new int[batches];
        int[] batchShape = Arrays.copyOf(out.shape(), r - 1);
        batchShape[r - 2] = 1;
        for (int i = 0; i < batches; i++) {
            aAt[i] = x.offset() + rowOffset(batchShape, Arrays.copyOf(xs, r - 1), i);
            bAt[i] = y.offset() + rowOffset(batchShape, Arrays.copyOf(ys, r - 1), i);
            cAt[i] = out.offset() + rowOffset(batchShape, Arrays.copyOf(cs, r - 1), i);
        }
        // Tasks: whole batches when there are many, else each product split along its longer
        // output side in multiples of the register tile. Partitioning never splits K.
        long work = (long) batches * m * n * Math.max(k, 1);
        int threads = parallel.threads();
        int parts = 1;
        boolean splitN = n >= m;
        if (work >= 4L * GRAIN && batches < 2 * threads) {
            int tile = splitN ? gemm.nr() : gemm.mr();
            int side = splitN ? n : m;
            int wanted = (4 * threads + batches - 1) / batches;
            parts = Math.max(1, Math.min(wanted, side / Math.max(tile, splitN ? 128 : 64)));
        }
        int tasks = batches * parts;
        int p = parts;
        if (work < 4L * GRAIN || tasks == 1) {
            for (int i = 0; i < batches; i++) gemm.multiply(a, aAt[i], aRs, aCs, b, bAt[i], bRs, bCs, c, cAt[i], cRs, cCs, k, 0, m, 0, n);
            return;
        }
        int tile = splitN ? gemm.nr() : gemm.mr();
        int side = splitN ? n : m;
        int tilesPerSide = (side + tile - 1) / tile;
        parallel.forEach(tasks, t -> {
            int bi = t / p, part = t % p;
            int lo = Math.min(side, (int) ((long) tilesPerSide * part / p) * tile);
            int hi = Math.min(side, (int) ((long) tilesPerSide * (part + 1) / p) * tile);
            if (splitN) gemm.multiply(a, aAt[bi], aRs, aCs, b, bAt[bi], bRs, bCs, c, cAt[bi], cRs, cCs, k, 0, m, lo, hi);
            else gemm.multiply(a, aAt[bi], aRs, aCs, b, bAt[bi], bRs, bCs, c, cAt[bi], cRs, cCs, k, lo, hi, 0, n);
        });
    }

    /** Products with one row and at least this many multiply-adds skip the GEMM's packing. */
    private static final long GEMV_WORK = 1L << 16;
    /** Output columns per GEMV task: fixed, so each column's arithmetic does not depend on the thread count. */
    private static final int GEMV_COLUMNS = 256;

    /**
     * out [1, N] = a [1, K] B [K, N] for one row (GPT-2 generation with the KV cache: every linear
     * layer and the vocabulary head). Packing B for the GEMM would read and write all of it to use
     * each element once; here B is streamed once. Row-major B: each task owns GEMV_COLUMNS columns
     * and adds a[k] B[k, cols] for k in order (axpy); column-major B (a transposed weight, the
     * tied head): one dot product per column.
     */
    private void gemv(float[] a, int aOff, int aCs, float[] b, int bOff, int bRs, int bCs, float[] c, int cOff, int cCs,
                      int k, int n) {
        // a strided row (a column of some matrix) is copied once so the tasks read it contiguously
        float[] x = aCs == 1 ? a : new float[k];
        int xOff = aCs == 1 ? aOff : 0;
        if (aCs != 1) for (int p = 0; p < k; p++) x[p] = a[aOff + p * aCs];
        int tasks = (n + GEMV_COLUMNS - 1) / GEMV_COLUMNS;
        parallel.forEach(tasks, t -> {
            int j0 = t * GEMV_COLUMNS, j1 = Math.min(n, j0 + GEMV_COLUMNS), width = j1 - j0;
            if (bCs == 1) {
                // accumulate in the output itself when its columns are contiguous
                float[] acc = cCs == 1 ? c : new float[width];
                int at = cCs == 1 ? cOff + j0 : 0;
                Arrays.fill(acc, at, at + width, 0f);
                for (int p = 0; p < k; p++) kernels.axpy(x[xOff + p], b, bOff + p * bRs + j0, acc, at, width);
                if (cCs != 1) for (int j = 0; j < width; j++) c[cOff + (j0 + j) * cCs] = acc[j];
            } else {
                for (int j = j0; j < j1; j++) c[cOff + j * cCs] = kernels.dot(x, xOff, b, bOff + j * bCs, k);
            }
        });
    }

    // ---------------------------------------------------------------- convolution helpers

    private void im2colImpl(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        float[] xs = f32(x), os = f32(out);
        if (xs == null || os == null || !x.isContiguous() || !out.isContiguous()) {
            super.im2col(x, kh, kw, sh, sw, ph, pw, out);
            return;
        }
        int[] s = x.shape();
        int batch = s[0], ch = s[1], h = s[2], w = s[3];
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1, l = oh * ow;
        int xOff = x.offset(), oOff = out.offset();
        int planeWork = kh * kw * l;
        parallel.forRange(batch * ch, Math.max(1, GRAIN / Math.max(1, planeWork)), (p0, p1) -> {
            // rows (c*kh + i)*kw + j of batch b start at (b*ch*kh*kw + row) * l = (plane*kh*kw + i*kw + j) * l
            for (int plane = p0; plane < p1; plane++) {
                ConvKernels.unfoldPlane(xs, xOff + plane * h * w, h, w, kh, kw, sh, sw, ph, pw, oh, ow, os, oOff + plane * kh * kw * l, l);
            }
        });
    }

    private void col2imImpl(Strided cols, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        float[] cs = f32(cols), os = f32(out);
        if (cs == null || os == null || !cols.isContiguous() || !out.isContiguous()) {
            super.col2im(cols, kh, kw, sh, sw, ph, pw, out);
            return;
        }
        int[] s = out.shape();
        int batch = s[0], ch = s[1], h = s[2], w = s[3];
        int oh = (h + 2 * ph - kh) / sh + 1, ow = (w + 2 * pw - kw) / sw + 1, l = oh * ow;
        int cOff = cols.offset(), oOff = out.offset();
        int planeWork = kh * kw * l;
        // each (batch, channel) plane of out is summed by one thread, in the reference's order
        parallel.forRange(batch * ch, Math.max(1, GRAIN / Math.max(1, planeWork)), (p0, p1) -> {
            for (int plane = p0; plane < p1; plane++) {
                ConvKernels.foldPlane(cs, cOff + plane * kh * kw * l, l, h, w, kh, kw, sh, sw, ph, pw, oh, ow, os, oOff + plane * h * w);
            }
        });
    }

    private void maxPool2dImpl(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out, Strided indices) {
        float[] xs = f32(x), os = f32(out);
        int[] is = i32(indices);
        if (xs == null || os == null || is == null || !x.isContiguous() || !out.isContiguous() || !indices.isContiguous()) {
            super.maxPool2d(x, kh, kw, sh, sw, ph, pw, out, indices);
            return;
        }
        int[] s = x.shape();
        int planes = s[0] * s[1], h = s[2], w = s[3];
        int oh = out.shape()[2], ow = out.shape()[3];
        int xOff = x.offset(), oOff = out.offset(), iOff = indices.offset();
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0) {
            maxPool2x2(xs, xOff, os, oOff, is, iOff, planes, h, w, oh, ow);
            return;
        }
        parallel.forRange(planes, Math.max(1, GRAIN / Math.max(1, oh * ow * kh * kw)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                int src = xOff + p * h * w;
                int dst = p * oh * ow;
                for (int yy = 0; yy < oh; yy++)
                    for (int z = 0; z < ow; z++, dst++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int bestAt = -1;
                        for (int i = 0; i < kh; i++) {
                            int hy = yy * sh - ph + i;
                            if (hy < 0 || hy >= h) continue;
                            for (int j = 0; j < kw; j++) {
                                int wz = z * sw - pw + j;
                                if (wz < 0 || wz >= w) continue;
                                float e = xs[src + hy * w + wz];
                                // same rule as the reference: strictly greater wins, a NaN always takes over
                                if (bestAt < 0 || e > best || e != e) {
                                    best = e;
                                    bestAt = hy * w + wz;
                                }
                            }
                        }
                        os[oOff + dst] = best;
                        is[iOff + dst] = bestAt;
                    }
            }
        });
    }

    /**
     * The 2x2, stride 2, unpadded window (Conv-4's pooling) without the general loop's bounds
     * tests, planes in parallel; the kernel gets each window's top-left corner from a map.
     */
    private void maxPool2x2(float[] xs, int xOff, float[] os, int oOff, int[] is, int iOff,
                            int planes, int h, int w, int oh, int ow) {
        int outs = oh * ow;
        int[] topLeft = FusedKernels.topLeft(w, oh, ow);
        parallel.forRange(planes, Math.max(1, GRAIN / Math.max(1, outs * 4)), (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
                kernels.maxPool2x2(xs, xOff + p * h * w, w, topLeft, os, oOff + p * outs, is, iOff + p * outs);
            }
        });
    }

    // ---------------------------------------------------------------- indexing

    /** Sizes before, at and after {@code dim}. */
    private static int[] split3(int[] shape, int dim) {
        int pre = 1, post = 1;
        for (int d = 0; d < dim; d++) pre *= shape[d];
        for (int d = dim + 1; d < shape.length; d++) post *= shape[d];
        return new int[]{pre, shape[dim], post};
    }

    @Override
    public void indexSelect(Strided x, int dim, Strided index, Strided out) {
        long t0 = Profiler.start();
        try {
            float[] xs = f32(x), os = f32(out);
            int[] is = i32(index);
            if (xs == null || os == null || is == null || !x.isContiguous() || !out.isContiguous() || !index.isContiguous()) {
                super.indexSelect(x, dim, index, out);
                return;
            }
            int[] a = split3(x.shape(), dim);
            int pre = a[0], size = a[1], post = a[2], n = index.numel();
            int xo = x.offset(), oo = out.offset(), io = index.offset();
            parallel.forRange(pre * n, Math.max(1, GRAIN / Math.max(1, post)), (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int p = r / n, i = r % n;
                    System.arraycopy(xs, xo + (p * size + is[io + i]) * post, os, oo + r * post, post);
                }
            });
        } finally {
            if (t0 != -1) Profiler.stop("indexSelect", t0);
        }
    }

    @Override
    public void indexAdd(Strided src, int dim, Strided index, Strided out) {
        long t0 = Profiler.start();
        try {
            float[] ss = f32(src), os = f32(out);
            int[] is = i32(index);
            if (ss == null || os == null || is == null || !src.isContiguous() || !out.isContiguous() || !index.isContiguous()) {
                super.indexAdd(src, dim, index, out);
                return;
            }
            int[] a = split3(out.shape(), dim);
            int pre = a[0], size = a[1], post = a[2], n = index.numel();
            int so = src.offset(), oo = out.offset(), io = index.offset();
            // tasks own (outer slice, column block) pairs and add the indices in order: deterministic
            int blocks = Math.max(1, Math.min(4 * parallel.threads(), post / 64));
            parallel.forEach(pre * blocks, task -> {
                int p = task / blocks, blk = task % blocks;
                int c0 = (int) ((long) post * blk / blocks), c1 = (int) ((long) post * (blk + 1) / blocks);
                for (int i = 0; i < n; i++) {
                    kernels.axpy(1f, ss, so + (p * n + i) * post + c0, os, oo + (p * size + is[io + i]) * post + c0, c1 - c0);
                }
            });
        } finally {
            if (t0 != -1) Profiler.stop("indexAdd", t0);
        }
    }

    @Override
    public void gather(Strided x, int dim, Strided index, Strided out) {
        long t0 = Profiler.start();
        try {
            float[] xs = f32(x), os = f32(out);
            int[] is = i32(index);
            if (xs == null || os == null || is == null || !x.isContiguous() || !out.isContiguous() || !index.isContiguous()) {
                super.gather(x, dim, index, out);
                return;
            }
            int[] a = split3(x.shape(), dim), b = split3(index.shape(), dim);
            int size = a[1], n = b[1], post = b[2], xpost = a[2];
            int xo = x.offset(), oo = out.offset(), io = index.offset();
            parallel.forRange(b[0], Math.max(1, GRAIN / Math.max(1, n * post)), (p0, p1) -> {
                for (int p = p0; p < p1; p++)
                    for (int j = 0; j < n; j++)
                        for (int q = 0; q < post; q++) {
                            int at = (p * n + j) * post + q;
                            os[oo + at] = xs[xo + (p * size + is[io + at]) * xpost + q];
                        }
            });
        } finally {
            if (t0 != -1) Profiler.stop("gather", t0);
        }
    }

    @Override
    public void scatterAdd(Strided src, int dim, Strided index, Strided out) {
        long t0 = Profiler.start();
        try {
            float[] ss = f32(src), os = f32(out);
            int[] is = i32(index);
            if (ss == null || os == null || is == null || !src.isContiguous() || !out.isContiguous() || !index.isContiguous()) {
                super.scatterAdd(src, dim, index, out);
                return;
            }
            int[] a = split3(out.shape(), dim), b = split3(index.shape(), dim);
            int size = a[1], n = b[1], post = b[2], opost = a[2];
            int so = src.offset(), oo = out.offset(), io = index.offset();
            // each task owns whole outer slices of out, adding in index order: deterministic
            parallel.forRange(b[0], Math.max(1, GRAIN / Math.max(1, n * post)), (p0, p1) -> {
                for (int p = p0; p < p1; p++)
                    for (int j = 0; j < n; j++)
                        for (int q = 0; q < post; q++) {
                            int at = (p * n + j) * post + q;
                            os[oo + (p * size + is[io + at]) * opost + q] += ss[so + at];
                        }
            });
        } finally {
            if (t0 != -1) Profiler.stop("scatterAdd", t0);
        }
    }

    // ---------------------------------------------------------------- fused kernels

    /** Rank-2 view whose rows are unit-stride (or one column). */
    private static boolean unitRows(Strided v) {
        return v.rank() == 2 && (v.strides()[1] == 1 || v.shape()[1] <= 1);
    }

    private static boolean dense(Strided... views) {
        for (Strided v : views) if (v != null && (f32(v) == null || !v.isContiguous())) return false;
        return true;
    }

    @Override
    public void softmaxRows(Strided x, Strided out, boolean log) {
        long t0 = Profiler.start();
        try {
            float[] xs = f32(x), os = f32(out);
            int r = x.shape()[0], c = x.shape()[1];
            if (xs == null || os == null || !unitRows(x) || !unitRows(out) || c == 0) {
                super.softmaxRows(x, out, log);
                return;
            }
            fused.softmaxRows(xs, x.offset(), x.strides()[0], os, out.offset(), out.strides()[0], r, c, log);
        } finally {
            if (t0 != -1) Profiler.stop(log ? "logSoftmaxRows" : "softmaxRows", t0);
        }
    }

    @Override
    public void layerNormRows(Strided x, Strided weight, Strided bias, double eps, Strided out, Strided mean, Strided rstd) {
        long t0 = Profiler.start();
        try {
            if (!dense(x, weight, bias, out, mean, rstd)) {
                super.layerNormRows(x, weight, bias, eps, out, mean, rstd);
                return;
            }
            fused.layerNorm(f32(x), x.offset(), weight == null ? null : f32(weight), weight == null ? 0 : weight.offset(),
                    bias == null ? null : f32(bias), bias == null ? 0 : bias.offset(), (float) eps, f32(out), out.offset(),
                    f32(mean), mean.offset(), f32(rstd), rstd.offset(), x.shape()[0], x.shape()[1]);
        } finally {
            if (t0 != -1) Profiler.stop("layerNormRows", t0);
        }
    }

    @Override
    public void layerNormBackwardRows(Strided g, Strided x, Strided weight, Strided mean, Strided rstd,
                                      Strided gradX, Strided gradWeight, Strided gradBias) {
        long t0 = Profiler.start();
        try {
            if (!dense(g, x, weight, mean, rstd, gradX, gradWeight, gradBias)) {
                super.layerNormBackwardRows(g, x, weight, mean, rstd, gradX, gradWeight, gradBias);
                return;
            }
            fused.layerNormBackward(f32(g), g.offset(), f32(x), x.offset(), weight == null ? null : f32(weight),
                    weight == null ? 0 : weight.offset(), f32(mean), mean.offset(), f32(rstd), rstd.offset(),
                    gradX == null ? null : f32(gradX), gradX == null ? 0 : gradX.offset(),
                    gradWeight == null ? null : f32(gradWeight), gradWeight == null ? 0 : gradWeight.offset(),
                    gradBias == null ? null : f32(gradBias), gradBias == null ? 0 : gradBias.offset(),
                    x.shape()[0], x.shape()[1]);
        } finally {
            if (t0 != -1) Profiler.stop("layerNormBackwardRows", t0);
        }
    }

    @Override
    public void batchNormChannels(Strided x, Strided weight, Strided bias, double eps, Strided out,
                                  Strided mean, Strided var, Strided rstd) {
        batchNorm(false, x, weight, bias, eps, out, mean, var, rstd);
    }

    @Override
    public void batchNormReluChannels(Strided x, Strided weight, Strided bias, double eps, Strided out,
                                      Strided mean, Strided var, Strided rstd) {
        batchNorm(true, x, weight, bias, eps, out, mean, var, rstd);
    }

    private void batchNorm(boolean relu, Strided x, Strided weight, Strided bias, double eps, Strided out,
                           Strided mean, Strided var, Strided rstd) {
        long t0 = Profiler.start();
        try {
            if (!dense(x, weight, bias, out, mean, var, rstd)) {
                if (relu) super.batchNormReluChannels(x, weight, bias, eps, out, mean, var, rstd);
                else super.batchNormChannels(x, weight, bias, eps, out, mean, var, rstd);
                return;
            }
            fused.batchNorm(f32(x), x.offset(), weight == null ? null : f32(weight), weight == null ? 0 : weight.offset(),
                    bias == null ? null : f32(bias), bias == null ? 0 : bias.offset(), (float) eps, relu, f32(out), out.offset(),
                    f32(mean), mean.offset(), f32(var), var.offset(), f32(rstd), rstd.offset(),
                    x.shape()[0], x.shape()[1], x.shape()[2]);
        } finally {
            if (t0 != -1) Profiler.stop((relu ? "batchNormReluChannels " : "batchNormChannels ") + layer(x.shape()), t0);
        }
    }

    @Override
    public void batchNormReluPool2x2(Strided x, Strided weight, Strided bias, double eps, Strided out, Strided indices,
                                     Strided mean, Strided var, Strided rstd) {
        long t0 = Profiler.start();
        try {
            int[] is = i32(indices);
            if (!dense(x, weight, bias, out, mean, var, rstd) || is == null || !indices.isContiguous()) {
                super.batchNormReluPool2x2(x, weight, bias, eps, out, indices, mean, var, rstd);
                return;
            }
            int[] s = x.shape();
            fused.batchNormReluPool(f32(x), x.offset(), weight == null ? null : f32(weight), weight == null ? 0 : weight.offset(),
                    bias == null ? null : f32(bias), bias == null ? 0 : bias.offset(), (float) eps, f32(out), out.offset(),
                    is, indices.offset(), f32(mean), mean.offset(), f32(var), var.offset(), f32(rstd), rstd.offset(),
                    s[0], s[1], s[2], s[3]);
        } finally {
            if (t0 != -1) Profiler.stop("batchNormReluPool2x2 " + layer(x.shape()), t0);
        }
    }

    @Override
    public void batchNormReluPool2x2Backward(Strided g, Strided out, Strided indices, Strided x, Strided weight,
                                             Strided mean, Strided rstd, Strided gradX, Strided gradWeight, Strided gradBias) {
        long t0 = Profiler.start();
        try {
            int[] is = i32(indices);
            if (!dense(g, out, x, weight, mean, rstd, gradX, gradWeight, gradBias) || is == null || !indices.isContiguous()) {
                super.batchNormReluPool2x2Backward(g, out, indices, x, weight, mean, rstd, gradX, gradWeight, gradBias);
                return;
            }
            int[] s = x.shape();
            fused.batchNormReluPoolBackward(f32(g), g.offset(), f32(out), out.offset(), is, indices.offset(), f32(x), x.offset(),
                    weight == null ? null : f32(weight), weight == null ? 0 : weight.offset(), f32(mean), mean.offset(),
                    f32(rstd), rstd.offset(), gradX == null ? null : f32(gradX), gradX == null ? 0 : gradX.offset(),
                    gradWeight == null ? null : f32(gradWeight), gradWeight == null ? 0 : gradWeight.offset(),
                    gradBias == null ? null : f32(gradBias), gradBias == null ? 0 : gradBias.offset(), s[0], s[1], s[2], s[3]);
        } finally {
            if (t0 != -1) Profiler.stop("batchNormReluPool2x2Backward " + layer(x.shape()), t0);
        }
    }

    @Override
    public void convBatchNormReluPool2x2(Strided x, Strided convWeight, Strided convBias, int ph, int pw,
                                         Strided weight, Strided bias, double eps, Strided out, Strided indices,
                                         Strided mean, Strided var, Strided rstd) {
        long t0 = Profiler.start();
        ConvShape s = ConvShape.stride1(x.shape(), convWeight.shape(), ph, pw);
        try {
            int[] is = i32(indices);
            if (!convolveByImage(x.shape()[0], x, convWeight, convBias, weight, bias, out, mean, var, rstd) || is == null
                    || !indices.isContiguous() || out.numel() == 0 || !ConvolutionBlock.recomputes(s)) {
                super.convBatchNormReluPool2x2(x, convWeight, convBias, ph, pw, weight, bias, eps, out, indices, mean, var, rstd);
                return;
            }
            convolutionBlocks.forward(f32(x), x.offset(), f32(convWeight), convWeight.offset(),
                    convBias == null ? null : f32(convBias), convBias == null ? 0 : convBias.offset(),
                    weight == null ? null : f32(weight), weight == null ? 0 : weight.offset(),
                    bias == null ? null : f32(bias), bias == null ? 0 : bias.offset(), (float) eps, f32(out), out.offset(),
                    is, indices.offset(), f32(mean), mean.offset(), f32(var), var.offset(), f32(rstd), rstd.offset(),
                    s, ph, pw);
        } finally {
            if (t0 != -1) Profiler.stop("convBatchNormReluPool2x2 " + layer(x.shape(), s.outShape()), t0);
        }
    }

    @Override
    public void convBatchNormReluPool2x2Backward(Strided g, Strided out, Strided indices, Strided x, Strided convWeight,
                                                 Strided convBias, int ph, int pw, Strided weight, Strided mean,
                                                 Strided rstd, Strided gradX, Strided gradConvWeight,
                                                 Strided gradConvBias, Strided gradWeight, Strided gradBias) {
        long t0 = Profiler.start();
        ConvShape s = ConvShape.stride1(x.shape(), convWeight.shape(), ph, pw);
        try {
            int[] is = i32(indices);
            if (!convolveByImage(x.shape()[0], g, out, x, convWeight, convBias, weight, mean, rstd, gradX, gradConvWeight,
                    gradConvBias, gradWeight, gradBias) || is == null || !indices.isContiguous() || out.numel() == 0
                    || !ConvolutionBlock.recomputes(s)) {
                super.convBatchNormReluPool2x2Backward(g, out, indices, x, convWeight, convBias, ph, pw, weight, mean, rstd,
                        gradX, gradConvWeight, gradConvBias, gradWeight, gradBias);
                return;
            }
            convolutionBlocks.backward(f32(g), g.offset(), f32(out), out.offset(), is, indices.offset(), f32(x), x.offset(),
                    f32(convWeight), convWeight.offset(), convBias == null ? null : f32(convBias),
                    convBias == null ? 0 : convBias.offset(), weight == null ? null : f32(weight),
                    weight == null ? 0 : weight.offset(), f32(mean), mean.offset(), f32(rstd), rstd.offset(),
                    gradX == null ? null : f32(gradX), gradX == null ? 0 : gradX.offset(),
                    gradConvWeight == null ? null : f32(gradConvWeight), gradConvWeight == null ? 0 : gradConvWeight.offset(),
                    gradConvBias == null ? null : f32(gradConvBias), gradConvBias == null ? 0 : gradConvBias.offset(),
                    gradWeight == null ? null : f32(gradWeight), gradWeight == null ? 0 : gradWeight.offset(),
                    gradBias == null ? null : f32(gradBias), gradBias == null ? 0 : gradBias.offset(),
                    s, ph, pw);
        } finally {
            if (t0 != -1) Profiler.stop("convBatchNormReluPool2x2Backward " + layer(x.shape(), s.outShape()), t0);
        }
    }

    // Convolution image by image (ConvKernels) when the batch has at least one image per thread;
    // a smaller batch goes through the default (one batched product split within each image).

    private boolean convolveByImage(int images, Strided... views) {
        return dense(views) && images >= parallel.threads();
    }

    @Override
    public void conv2d(Strided x, Strided weight, Strided bias, int sh, int sw, int ph, int pw, Strided out) {
        long t0 = Profiler.start();
        try {
            ConvShape s = ConvShape.of(x.shape(), weight.shape(), out.shape());
            if (!convolveByImage(s.n(), x, weight, bias, out) || out.numel() == 0) {
                super.conv2d(x, weight, bias, sh, sw, ph, pw, out);
                return;
            }
            convolutions.forward(f32(x), x.offset(), f32(weight), weight.offset(), bias == null ? null : f32(bias),
                    bias == null ? 0 : bias.offset(), f32(out), out.offset(), s, sh, sw, ph, pw);
        } finally {
            if (t0 != -1) Profiler.stop("conv2d " + layer(x.shape(), out.shape()), t0);
        }
    }

    @Override
    public void conv2dBackwardInput(Strided g, Strided weight, int sh, int sw, int ph, int pw, Strided gradX) {
        long t0 = Profiler.start();
        try {
            ConvShape s = ConvShape.of(gradX.shape(), weight.shape(), g.shape());
            if (!convolveByImage(s.n(), g, weight, gradX) || gradX.numel() == 0) {
                super.conv2dBackwardInput(g, weight, sh, sw, ph, pw, gradX);
                return;
            }
            convolutions.backwardInput(f32(g), g.offset(), f32(weight), weight.offset(), f32(gradX), gradX.offset(), s,
                    sh, sw, ph, pw);
        } finally {
            if (t0 != -1) Profiler.stop("conv2dBackwardInput " + layer(gradX.shape(), g.shape()), t0);
        }
    }

    @Override
    public void conv2dBackwardWeight(Strided x, Strided g, int sh, int sw, int ph, int pw, Strided gradWeight) {
        conv2dBackwardWeightAndBias(x, g, sh, sw, ph, pw, gradWeight, null);
    }

    /** gradBias null: the weight gradient alone. */
    @Override
    public void conv2dBackwardWeightAndBias(Strided x, Strided g, int sh, int sw, int ph, int pw, Strided gradWeight,
                                            Strided gradBias) {
        long t0 = Profiler.start();
        try {
            ConvShape s = ConvShape.of(x.shape(), gradWeight.shape(), g.shape());
            if (!convolveByImage(s.n(), x, g, gradWeight, gradBias)) {
                if (gradBias == null) super.conv2dBackwardWeight(x, g, sh, sw, ph, pw, gradWeight);
                else super.conv2dBackwardWeightAndBias(x, g, sh, sw, ph, pw, gradWeight, gradBias);
                return;
            }
            convolutions.backwardWeight(f32(x), x.offset(), f32(g), g.offset(), f32(gradWeight), gradWeight.offset(),
                    gradBias == null ? null : f32(gradBias), gradBias == null ? 0 : gradBias.offset(), s, sh, sw, ph, pw);
        } finally {
            if (t0 != -1) Profiler.stop("conv2dBackwardWeight " + layer(x.shape(), g.shape()), t0);
        }
    }

    @Override
    public void channelSums(Strided u, Strided v, Strided out) {
        long t0 = Profiler.start();
        try {
            if (!dense(u, v, out)) {
                super.channelSums(u, v, out);
                return;
            }
            fused.channelSums(f32(u), u.offset(), v == null ? null : f32(v), v == null ? 0 : v.offset(), f32(out),
                    out.offset(), u.shape()[0], u.shape()[1], u.shape()[2]);
        } finally {
            if (t0 != -1) Profiler.stop("channelSums", t0);
        }
    }

    @Override
    public void channelCombine(Strided u, Strided a, Strided v, Strided b, Strided shift, Strided out) {
        long t0 = Profiler.start();
        try {
            if (!dense(u, a, v, b, shift, out)) {
                super.channelCombine(u, a, v, b, shift, out);
                return;
            }
            fused.channelCombine(f32(u), u.offset(), a == null ? null : f32(a), a == null ? 0 : a.offset(),
                    v == null ? null : f32(v), v == null ? 0 : v.offset(), b == null ? null : f32(b), b == null ? 0 : b.offset(),
                    shift == null ? null : f32(shift), shift == null ? 0 : shift.offset(), f32(out), out.offset(),
                    u.shape()[0], u.shape()[1], u.shape()[2]);
        } finally {
            if (t0 != -1) Profiler.stop("channelCombine", t0);
        }
    }

    @Override
    public void batchNormChannelsBackward(Strided g, Strided x, Strided weight, Strided mean, Strided rstd,
                                          Strided gradX, Strided gradWeight, Strided gradBias) {
        batchNormBackward(g, null, x, weight, mean, rstd, gradX, gradWeight, gradBias);
    }

    @Override
    public void batchNormReluChannelsBackward(Strided g, Strided y, Strided x, Strided weight, Strided mean, Strided rstd,
                                              Strided gradX, Strided gradWeight, Strided gradBias) {
        batchNormBackward(g, y, x, weight, mean, rstd, gradX, gradWeight, gradBias);
    }

    /** y: the output of a batch norm followed by a ReLU (g is masked by y &gt; 0), or null. */
    private void batchNormBackward(Strided g, Strided y, Strided x, Strided weight, Strided mean, Strided rstd,
                                   Strided gradX, Strided gradWeight, Strided gradBias) {
        long t0 = Profiler.start();
        try {
            if (!dense(g, y, x, weight, mean, rstd, gradX, gradWeight, gradBias)) {
                if (y != null) super.batchNormReluChannelsBackward(g, y, x, weight, mean, rstd, gradX, gradWeight, gradBias);
                else super.batchNormChannelsBackward(g, x, weight, mean, rstd, gradX, gradWeight, gradBias);
                return;
            }
            fused.batchNormBackward(f32(g), g.offset(), y == null ? null : f32(y), y == null ? 0 : y.offset(),
                    f32(x), x.offset(), weight == null ? null : f32(weight),
                    weight == null ? 0 : weight.offset(), f32(mean), mean.offset(), f32(rstd), rstd.offset(),
                    gradX == null ? null : f32(gradX), gradX == null ? 0 : gradX.offset(),
                    gradWeight == null ? null : f32(gradWeight), gradWeight == null ? 0 : gradWeight.offset(),
                    gradBias == null ? null : f32(gradBias), gradBias == null ? 0 : gradBias.offset(),
                    x.shape()[0], x.shape()[1], x.shape()[2]);
        } finally {
            if (t0 != -1) Profiler.stop((y != null ? "batchNormReluChannelsBackward " : "batchNormChannelsBackward ") + layer(x.shape()), t0);
        }
    }

    @Override
    public void crossEntropyRows(Strided logits, Strided targets, Strided keep, Strided losses, Strided lse) {
        long t0 = Profiler.start();
        try {
            int[] ts = i32(targets);
            if (!dense(logits, keep, losses, lse) || ts == null || !targets.isContiguous() || logits.shape()[1] == 0) {
                super.crossEntropyRows(logits, targets, keep, losses, lse);
                return;
            }
            fused.crossEntropy(f32(logits), logits.offset(), ts, targets.offset(), keep == null ? null : f32(keep),
                    keep == null ? 0 : keep.offset(), f32(losses), losses.offset(),
                    f32(lse), lse.offset(), logits.shape()[0], logits.shape()[1]);
        } finally {
            if (t0 != -1) Profiler.stop("crossEntropyRows", t0);
        }
    }

    @Override
    public void crossEntropyBackwardRows(Strided logits, Strided lse, Strided targets, Strided keep,
                                         Strided gradLoss, Strided gradLogits) {
        long t0 = Profiler.start();
        try {
            int[] ts = i32(targets);
            if (!dense(logits, lse, keep, gradLoss, gradLogits) || ts == null || !targets.isContiguous()) {
                super.crossEntropyBackwardRows(logits, lse, targets, keep, gradLoss, gradLogits);
                return;
            }
            fused.crossEntropyBackward(f32(logits), logits.offset(), f32(lse), lse.offset(), ts, targets.offset(),
                    keep == null ? null : f32(keep), keep == null ? 0 : keep.offset(),
                    f32(gradLoss), gradLoss.offset(), f32(gradLogits), gradLogits.offset(),
                    logits.shape()[0], logits.shape()[1]);
        } finally {
            if (t0 != -1) Profiler.stop("crossEntropyBackwardRows", t0);
        }
    }

    /** Storage offsets of each matrix of a [..., rows, cols] view, batches in row-major order. */
    private static int[] matrixOffsets(Strided v) {
        int r = v.rank();
        int batches = 1;
        for (int d = 0; d < r - 2; d++) batches *= v.shape()[d];
        int[] out = new int[batches];
        int[] bShape = Arrays.copyOf(v.shape(), r - 1), bStrides = Arrays.copyOf(v.strides(), r - 1);
        bShape[r - 2] = 1;
        for (int i = 0; i < batches; i++) out[i] = v.offset() + rowOffset(bShape, bStrides, i);
        return out;
    }

    /** f32, rank &gt;= 2, unit stride along the last axis. */
    private static boolean unitInner(Strided... views) {
        for (Strided v : views) {
            if (f32(v) == null || v.rank() < 2) return false;
            if (v.strides()[v.rank() - 1] != 1 && v.shape()[v.rank() - 1] > 1) return false;
        }
        return true;
    }

    private static int rowStride(Strided v) {
        return v.strides()[v.rank() - 2];
    }

    @Override
    public void attention(Strided q, Strided k, Strided v, double scale, boolean causal, Strided out, Strided lse) {
        long t0 = Profiler.start();
        try {
            int r = q.rank();
            if (!unitInner(q, k, v, out) || !dense(lse) || q.numel() == 0 || k.shape()[r - 2] == 0) {
                super.attention(q, k, v, scale, causal, out, lse);
                return;
            }
            fused.attention(f32(q), matrixOffsets(q), rowStride(q), f32(k), matrixOffsets(k), rowStride(k),
                    f32(v), matrixOffsets(v), rowStride(v), f32(out), matrixOffsets(out), rowStride(out),
                    f32(lse), lse.offset(), q.shape()[r - 2], k.shape()[r - 2], q.shape()[r - 1], v.shape()[r - 1],
                    (float) scale, causal);
        } finally {
            if (t0 != -1) Profiler.stop("attention", t0);
        }
    }

    @Override
    public void attentionBackward(Strided q, Strided k, Strided v, double scale, boolean causal, Strided lse,
                                  Strided g, Strided gradQ, Strided gradK, Strided gradV) {
        long t0 = Profiler.start();
        try {
            int r = q.rank();
            if (!unitInner(q, k, v, g, gradQ, gradK, gradV) || !dense(lse) || q.numel() == 0 || k.shape()[r - 2] == 0) {
                super.attentionBackward(q, k, v, scale, causal, lse, g, gradQ, gradK, gradV);
                return;
            }
            fused.attentionBackward(f32(q), matrixOffsets(q), rowStride(q), f32(k), matrixOffsets(k), rowStride(k),
                    f32(v), matrixOffsets(v), rowStride(v), f32(lse), lse.offset(), f32(g), matrixOffsets(g), rowStride(g),
                    f32(gradQ), matrixOffsets(gradQ), rowStride(gradQ), f32(gradK), matrixOffsets(gradK), rowStride(gradK),
                    f32(gradV), matrixOffsets(gradV), rowStride(gradV),
                    q.shape()[r - 2], k.shape()[r - 2], q.shape()[r - 1], v.shape()[r - 1], (float) scale, causal);
        } finally {
            if (t0 != -1) Profiler.stop("attentionBackward", t0);
        }
    }

    @Override
    public void adamStep(Strided param, Strided grad, Strided expAvg, Strided expAvgSq, long step, double lr,
                         double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        long t0 = Profiler.start();
        try {
            if (!dense(param, grad, expAvg, expAvgSq)) {
                super.adamStep(param, grad, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled);
                return;
            }
            double bc1 = 1 - Math.pow(beta1, step), bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
            fused.adam(f32(param), param.offset(), f32(grad), grad.offset(), f32(expAvg), expAvg.offset(),
                    f32(expAvgSq), expAvgSq.offset(), param.numel(), (float) beta1, (float) beta2,
                    decoupled ? 0f : (float) weightDecay, decoupled ? (float) (1 - lr * weightDecay) : 1f,
                    (float) bc2Sqrt, (float) eps, (float) (lr / bc1));
        } finally {
            if (t0 != -1) Profiler.stop("adamStep", t0);
        }
    }

    @Override
    public void geluTanhBackward(Strided x, Strided g, Strided out) {
        long t0 = Profiler.start();
        try {
            if (!dense(x, g, out)) {
                super.geluTanhBackward(x, g, out);
                return;
            }
            fused.geluBackward(f32(x), x.offset(), f32(g), g.offset(), f32(out), out.offset(), x.numel());
        } finally {
            if (t0 != -1) Profiler.stop("geluTanhBackward", t0);
        }
    }
}
