package io.github.grad4j.backend.opencl;

import com.aparapi.Range;
import com.aparapi.device.OpenCLDevice;
import com.aparapi.internal.opencl.OpenCLLoader;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.HeapStorage;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import static io.github.grad4j.backend.opencl.GradKernel.*;

/**
 * Backend whose tensors live on an OpenCL device, driven through Aparapi (FLOAT32 and INT32).
 *
 * <p>Residency: all storages are regions of one device float pool owned by one {@link GradKernel}
 * in explicit mode. Only {@link #upload}, {@link #download} (and single-element get/set) move
 * tensor data, through a separate staging buffer; every execute also sends a small parameter block
 * (shapes, strides, offsets: {@value GradKernel#PARAMS} ints). All of it is counted in
 * {@link #transferStats()}. INT32 values are held as exact floats, so they must satisfy |v| &lt; 2^24
 * (checked on upload; indices and token ids are far below that).
 *
 * <p>Pool: a first-fit free list over the pool; a storage's region is freed once the storage is
 * unreachable (phantom references, drained on each allocation). When nothing fits the backend
 * first asks the JVM to collect garbage, then grows the pool by copying it through the host
 * (counted as a transfer and a pool growth). Initial size: {@code -Dgrad4j.opencl.poolFloats}
 * (default 4 Mi floats, 16 MiB), never below the size the garbage collector leaves in place
 * (see {@link #immovableFloats()}).
 *
 * <p>Host fallbacks (counted in {@code hostFallbacks} and in the byte counters): {@link #topk}
 * and {@link #solve} download their inputs, run the reference backend and upload the result.
 *
 * <p>Every execute checks that Aparapi really ran it in OpenCL and throws otherwise: a silent
 * fallback to Aparapi's Java thread pool is an error here, never a feature.
 */
public final class OpenClBackend implements Backend, AutoCloseable {

    private static final int LOCAL = 64;
    private static final int MAX_EXACT_INT = 1 << 24;
    private static final String DTYPES = "opencl backend supports FLOAT32 and INT32";
    /** Aparapi warns about every MethodParameters attribute (javac -parameters); that is noise, not a fault. */
    private static final Logger CLASS_MODEL_LOG = Logger.getLogger("com.aparapi.internal.model");

    static {
        CLASS_MODEL_LOG.setLevel(Level.SEVERE);
    }

    private final OpenCLDevice device;
    private final GradKernel kernel;
    private final PoolAllocator allocator;
    private final ReferenceQueue<OpenClStorage> dead = new ReferenceQueue<>();
    private final Set<Region> live = new HashSet<>();
    private final int[] p = new int[PARAMS];

    private long bytesToDevice, bytesToHost, executes, paramBytes, poolGrowths, hostFallbacks;
    private boolean closed;

    /** A storage's pool region, freed when the storage is collected. */
    private static final class Region extends PhantomReference<OpenClStorage> {
        final int offset;
        final int size;

        Region(OpenClStorage s, ReferenceQueue<OpenClStorage> q, int offset, int size) {
            super(s, q);
            this.offset = offset;
            this.size = size;
        }
    }

    private OpenClBackend(OpenCLDevice device, int poolFloats) {
        this.device = device;
        this.kernel = new GradKernel(new float[poolFloats]);
        this.allocator = new PoolAllocator(poolFloats);
    }

    /** The backend on the default device (see {@link #create(String)}). */
    public static OpenClBackend create() {
        return create(System.getProperty("grad4j.opencl.device", ""));
    }

    /**
     * The backend on the device chosen by {@code selector}: empty for the first GPU (else the
     * first accelerator, else the first device), a number for that position in
     * {@link Devices#list()}, or a case-insensitive part of the device or platform name.
     * Throws IllegalStateException when OpenCL or the device is missing or the kernel cannot be
     * translated and run in OpenCL.
     */
    public static OpenClBackend create(String selector) {
        checkOrdinals();
        try {
            Class.forName("com.aparapi.Kernel", false, OpenClBackend.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException("opencl: Aparapi is not on the class path (com.aparapi:aparapi is an "
                    + "optional dependency: add it, or use the executable jar)", e);
        }
        OpenCLDevice device = Devices.choose(selector);
        int poolFloats = Math.max(Integer.getInteger("grad4j.opencl.poolFloats", 4 << 20), immovableFloats());
        OpenClBackend backend = new OpenClBackend(device, poolFloats);
        backend.selfTest();
        return backend;
    }

    /**
     * The smallest pool the garbage collector will not move. Aparapi creates its OpenCL buffers
     * over the Java arrays (CL_MEM_USE_HOST_PTR); when the collector moves an array that was not
     * {@code put} just before, Aparapi re-creates the buffer from the stale host copy (data loss on
     * GPUs) and PoCL crashed the JVM in a test. G1, ZGC and Shenandoah never move arrays of a
     * region or more ("humongous"/large objects) in normal collections, so the pool is at least
     * that large; collectors that compact everything (Serial, Parallel) are refused.
     */
    static int immovableFloats() {
        List<String> names = new ArrayList<>();
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) names.add(gc.getName());
        String all = String.join(", ", names);
        if (all.contains("G1")) {
            long region = 32L << 20;
            try {
                HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
                region = Long.parseLong(hs.getVMOption("G1HeapRegionSize").getValue());
            } catch (RuntimeException | LinkageError e) {
                // keep the largest region size G1 picks by itself
            }
            return (int) Math.min(Integer.MAX_VALUE - 64, region / 4 + PoolAllocator.ALIGN);
        }
        if (all.contains("ZGC") || all.contains("Shenandoah")) return (32 << 20) / 4;
        if (Boolean.getBoolean("grad4j.opencl.allowMovingGc")) return 8 << 20;
        throw new IllegalStateException("opencl: the garbage collector (" + all + ") may move the device pool's Java "
                + "array, which Aparapi cannot survive; run with -XX:+UseG1GC (the default on machines with 2+ CPUs "
                + "and 2+ GB), ZGC or Shenandoah");
    }

    /** True when Aparapi's native library loaded and reports OpenCL (a device may still be missing). */
    public static boolean isOpenClAvailable() {
        try {
            return OpenCLLoader.isOpenCLAvailable();
        } catch (Throwable t) {
            return false;
        }
    }

    /** Translates the kernel and checks one result, so that failures surface at creation. */
    private void selfTest() {
        Storage s;
        try {
            s = upload(new float[]{-1.5f, 2f, 0f});
            Strided v = Strided.contiguous(s, new int[]{3});
            unary(UnaryOp.RELU, v, v, 0, 0);
        } catch (IllegalStateException e) {
            kernel.dispose();
            throw new IllegalStateException("opencl: the kernel did not run in OpenCL on " + describeDevice()
                    + " (" + e.getMessage() + ")", e);
        }
        float[] r = downloadFloats(Strided.contiguous(s, new int[]{3}));
        if (r[0] != 0f || r[1] != 2f || r[2] != 0f) {
            kernel.dispose();
            throw new IllegalStateException("opencl: self-test gave " + Arrays.toString(r) + " instead of [0, 2, 0] on "
                    + describeDevice());
        }
    }

    private static void checkOrdinals() {
        // GradKernel branches on these ordinals; a reordered enum must fail here, not compute nonsense.
        if (UnaryOp.FILL.ordinal() != 17 || UnaryOp.NEG.ordinal() != 0 || UnaryOp.SIGMOID.ordinal() != 6
                || UnaryOp.GELU_TANH.ordinal() != 11 || UnaryOp.INSIDE.ordinal() != 14 || UnaryOp.values().length != 18
                || BinaryOp.NE.ordinal() != 12 || BinaryOp.POW.ordinal() != 4 || BinaryOp.RELU_BACKWARD.ordinal() != 13 || BinaryOp.values().length != 14
                || ReduceOp.SUM.ordinal() != 0 || ReduceOp.MAX.ordinal() != 1 || ReduceOp.MIN.ordinal() != 2) {
            throw new IllegalStateException("opencl: UnaryOp/BinaryOp/ReduceOp changed; update GradKernel's op tables");
        }
    }

    @Override
    public String name() {
        return "opencl";
    }

    /** The device this backend runs on, in words. */
    public String describeDevice() {
        return device.getName().trim() + " (" + device.getType() + ", " + device.getOpenCLPlatform().getName().trim() + ")";
    }

    /** Bytes and executes since creation. */
    public synchronized TransferStats transferStats() {
        return new TransferStats(bytesToDevice, bytesToHost, executes, paramBytes, poolGrowths, hostFallbacks);
    }

    /** Pool capacity in floats (grows on demand). */
    public synchronized int poolCapacity() {
        return allocator.capacity();
    }

    /** Floats held by live storages (rounded to the allocation granule). */
    public synchronized long poolUsed() {
        drainDead();
        return allocator.used();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            kernel.dispose();
        }
    }

    // ================================================================ storage and transfers

    @Override
    public synchronized Storage allocate(DType dtype, int size) {
        OpenClStorage s = newStorage(dtype, size);
        fill(s.poolOffset(), size, 0f);
        return s;
    }

    private OpenClStorage newStorage(DType dtype, int size) {
        if (dtype == DType.FLOAT64) {
            throw new IllegalArgumentException(DTYPES + "; FLOAT64 was requested (use the reference or cpu backend "
                    + "for float64 gradient checks)");
        }
        if (closed) throw new IllegalStateException("opencl: backend is closed");
        drainDead();
        int at = allocator.allocate(size);
        if (at < 0) {
            System.gc();
            awaitDead();
            at = allocator.allocate(size);
        }
        if (at < 0) {
            growPool(PoolAllocator.rounded(size));
            at = allocator.allocate(size);
        }
        OpenClStorage s = new OpenClStorage(this, dtype, size, at);
        live.add(new Region(s, dead, at, size));
        return s;
    }

    private void drainDead() {
        Reference<? extends OpenClStorage> r;
        while ((r = dead.poll()) != null) free((Region) r);
    }

    private void awaitDead() {
        try {
            Reference<? extends OpenClStorage> r = dead.remove(50);
            while (r != null) {
                free((Region) r);
                r = dead.remove(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void free(Region r) {
        if (live.remove(r)) allocator.release(r.offset, r.size);
    }

    /** Doubles the pool (at least) by copying it through the host; Aparapi binds the new array. */
    private void growPool(int need) {
        int old = allocator.capacity();
        long wanted = Math.max(2L * old, (long) old + need);
        long maxFloats = Math.min(Integer.MAX_VALUE - 64, device.getMaxMemAllocSize() / 4);
        if ((long) old + need > maxFloats) {
            throw new IllegalStateException("opencl: out of device memory: pool of " + old + " floats cannot grow by "
                    + need + " (device allows one buffer of " + maxFloats + " floats); " + allocator.used()
                    + " floats are held by live tensors");
        }
        int cap = (int) Math.min(wanted, maxFloats);
        float[] bigger = new float[cap];
        kernel.get(kernel.pool);
        bytesToHost += 4L * old;
        System.arraycopy(kernel.pool, 0, bigger, 0, old);
        kernel.pool = bigger;
        kernel.put(bigger);
        bytesToDevice += 4L * cap;
        allocator.grow(cap);
        poolGrowths++;
    }

    @Override
    public synchronized Storage upload(double[] data, DType dtype) {
        float[] f = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            if (dtype == DType.INT32) {
                int v = (int) data[i];
                checkExactInt(v);
                f[i] = v;
            } else {
                f[i] = (float) data[i];
            }
        }
        return put(dtype, f);
    }

    @Override
    public synchronized Storage upload(float[] data) {
        return put(DType.FLOAT32, data);
    }

    @Override
    public synchronized Storage upload(int[] data) {
        float[] f = new float[data.length];
        for (int i = 0; i < data.length; i++) {
            checkExactInt(data[i]);
            f[i] = data[i];
        }
        return put(DType.INT32, f);
    }

    private static void checkExactInt(int v) {
        if (v <= -MAX_EXACT_INT || v >= MAX_EXACT_INT) {
            throw new IllegalArgumentException("opencl: INT32 value " + v + " cannot be held exactly (the opencl backend "
                    + "stores INT32 as float, |v| < 2^24)");
        }
    }

    private OpenClStorage put(DType dtype, float[] values) {
        OpenClStorage s = newStorage(dtype, values.length);
        toDevice(values, s.poolOffset());
        return s;
    }

    /** Host values into pool[offset, offset + length) through the staging buffer. */
    private void toDevice(float[] values, int offset) {
        int n = values.length;
        if (n == 0) return;
        if (kernel.stage.length != n) kernel.stage = new float[n];
        System.arraycopy(values, 0, kernel.stage, 0, n);
        kernel.put(kernel.stage);
        bytesToDevice += 4L * n;
        p[I0] = offset;
        launch("upload", OP_UNPACK, n);
    }

    @Override
    public synchronized double[] download(Strided view) {
        float[] f = fetch(view);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public synchronized float[] downloadFloats(Strided view) {
        return fetch(view);
    }

    /** A view's elements in row-major order: packed on the device, then one read of the stage. */
    private float[] fetch(Strided view) {
        int n = view.numel();
        if (n == 0) return new float[0];
        Elementwise e = new Elementwise(view.shape(), view);
        e.write();
        if (kernel.stage.length != n) kernel.stage = new float[n];
        launch("download", OP_PACK, n);
        kernel.get(kernel.stage);
        bytesToHost += 4L * n;
        return kernel.stage.clone();
    }

    synchronized double readElement(OpenClStorage s, int i) {
        return fetch(new Strided(s, i, new int[0], new int[0]))[0];
    }

    synchronized void writeElement(OpenClStorage s, int i, double value) {
        float v = (float) value;
        if (s.dtype() == DType.INT32) {
            checkExactInt((int) value);
            v = (int) value;
        }
        toDevice(new float[]{v}, s.poolOffset() + i);
    }

    private void fill(int offset, int n, float value) {
        p[I0] = offset;
        kernel.fa = value;
        launch("allocate", OP_FILL, n);
    }

    // ================================================================ launching

    /** Sends the parameter block and runs {@code n} work items of {@code opCode}. */
    private void launch(String opName, int opCode, int n) {
        if (n <= 0) return;
        launch(opName, opCode, n, device.createRange(roundUp(n, LOCAL), LOCAL));
    }

    private void launch(String opName, int opCode, int n, Range range) {
        if (closed) throw new IllegalStateException("opencl: backend is closed");
        kernel.op = opCode;
        kernel.n = n;
        System.arraycopy(p, 0, kernel.params, 0, PARAMS);
        kernel.put(kernel.params);
        paramBytes += 4L * PARAMS;
        bytesToDevice += 4L * PARAMS;
        try {
            kernel.execute(range);
        } catch (RuntimeException | Error e) {
            throw new IllegalStateException("opencl: op '" + opName + "' failed on " + describeDevice() + ": " + e, e);
        }
        executes++;
        if (!kernel.isRunningCL()) {
            throw new IllegalStateException("opencl: op '" + opName + "' ran in Aparapi's Java thread pool, not in "
                    + "OpenCL (execution mode " + kernel.getExecutionMode() + "); the kernel could not be translated or "
                    + "the device failed: see Aparapi's warnings above");
        }
        kernel.dstInt = 0;
    }

    private static int roundUp(int n, int multiple) {
        return (int) (((long) n + multiple - 1) / multiple * multiple);
    }

    private int base(String op, String arg, Strided v) {
        if (!(v.storage() instanceof OpenClStorage s) || s.backend() != this) {
            throw new IllegalArgumentException("opencl: " + op + ": " + arg + " is not on this opencl backend ("
                    + v.storage().backend().name() + ")");
        }
        if (s.dtype() == DType.FLOAT64) throw new IllegalArgumentException("opencl: " + op + ": " + DTYPES);
        return s.poolOffset() + v.offset();
    }

    private void dst(String op, Strided out) {
        base(op, "out", out);
        kernel.dstInt = out.storage().dtype() == DType.INT32 ? 1 : 0;
    }

    /**
     * An index space shared by several operands of the same shape: size-1 dims are dropped and
     * neighbouring dims merged where every operand allows it, then written as layout A and
     * operand blocks OP0, OP1, ... in argument order.
     */
    private final class Elementwise {
        final int[] shape;
        final int[] offsets;
        final int[][] strides;

        Elementwise(int[] shape, Strided... views) {
            int[][] st = new int[views.length][];
            int[] off = new int[views.length];
            for (int k = 0; k < views.length; k++) {
                st[k] = views[k].strides();
                off[k] = base("kernel", "operand " + k, views[k]);
            }
            this.offsets = off;
            List<Integer> sizes = new ArrayList<>();
            List<int[]> dimStrides = new ArrayList<>();
            for (int d = shape.length - 1; d >= 0; d--) {
                if (shape[d] == 1) continue;
                int[] s = new int[views.length];
                for (int k = 0; k < views.length; k++) s[k] = st[k][d];
                if (!sizes.isEmpty()) {
                    int last = sizes.size() - 1;
                    int[] inner = dimStrides.get(last);
                    boolean merge = true;
                    for (int k = 0; k < views.length; k++) {
                        if ((long) s[k] != (long) inner[k] * sizes.get(last)) merge = false;
                    }
                    if (merge) {
                        sizes.set(last, sizes.get(last) * shape[d]);
                        continue;
                    }
                }
                sizes.add(shape[d]);
                dimStrides.add(s);
            }
            int rank = sizes.size();
            if (rank > MAXD) {
                throw new IllegalArgumentException("opencl: views of rank " + shape.length + " " + Arrays.toString(shape)
                        + " need more than " + MAXD + " dims after merging");
            }
            this.shape = new int[rank];
            this.strides = new int[views.length][rank];
            for (int d = 0; d < rank; d++) {
                this.shape[d] = sizes.get(rank - 1 - d);
                for (int k = 0; k < views.length; k++) strides[k][d] = dimStrides.get(rank - 1 - d)[k];
            }
        }

        /** Layout at LAY_A, operands at OP0, OP1, ... */
        void write() {
            writeLayout(LAY_A, shape);
            int[] blocks = {OP0, OP1, OP2, OP3};
            for (int k = 0; k < offsets.length; k++) writeOperand(blocks[k], offsets[k], strides[k]);
        }
    }

    private void writeLayout(int at, int[] shape) {
        p[at] = shape.length;
        for (int d = 0; d < shape.length; d++) p[at + 1 + d] = shape[d];
    }

    private void writeOperand(int at, int offset, int[] strides) {
        p[at] = offset;
        for (int d = 0; d < strides.length; d++) p[at + 1 + d] = strides[d];
    }

    /** A layout and operands written directly (no merging), for kernels with their own index maths. */
    private void layout(int[] shape, Strided... views) {
        if (shape.length > MAXD) {
            throw new IllegalArgumentException("opencl: rank " + shape.length + " exceeds " + MAXD);
        }
        writeLayout(LAY_A, shape);
        int[] blocks = {OP0, OP1, OP2, OP3};
        for (int k = 0; k < views.length; k++) writeOperand(blocks[k], base("kernel", "operand " + k, views[k]), views[k].strides());
    }

    // ================================================================ elementwise

    @Override
    public synchronized void copy(Strided src, Strided dst) {
        dst("copy", dst);
        new Elementwise(dst.shape(), src, dst).write();
        launch("copy", OP_COPY, dst.numel());
    }

    @Override
    public synchronized void unary(UnaryOp op, Strided x, Strided out, double a, double b) {
        dst("unary " + op, out);
        new Elementwise(out.shape(), x, out).write();
        kernel.sub = op.ordinal();
        kernel.fa = (float) a;
        kernel.fb = (float) b;
        launch("unary " + op, OP_UNARY, out.numel());
    }

    @Override
    public synchronized void binary(BinaryOp op, Strided x, Strided y, Strided out) {
        dst("binary " + op, out);
        new Elementwise(out.shape(), x, y, out).write();
        kernel.sub = op.ordinal();
        launch("binary " + op, OP_BINARY, out.numel());
    }

    @Override
    public synchronized void where(Strided cond, Strided x, Strided y, Strided out) {
        dst("where", out);
        new Elementwise(out.shape(), cond, x, y, out).write();
        launch("where", OP_WHERE, out.numel());
    }

    // ================================================================ reductions

    @Override
    public synchronized void reduce(ReduceOp op, Strided x, boolean[] reduceAxis, Strided out, Strided indices) {
        dst("reduce " + op, out);
        int rank = x.rank();
        int[] shape = x.shape();
        List<Integer> keptDims = new ArrayList<>();
        List<Integer> reducedDims = new ArrayList<>();
        for (int d = 0; d < rank; d++) (reduceAxis[d] ? reducedDims : keptDims).add(d);
        int[] keptShape = keptDims.stream().mapToInt(d -> shape[d]).toArray();
        Strided xKept = pick(x, keptDims);
        Strided outKept = pick(out, keptDims);
        Strided idxKept = indices == null ? outKept : pick(indices, keptDims);
        Elementwise kept = new Elementwise(keptShape, xKept, outKept, idxKept);
        kept.write();
        int[] redShape = reducedDims.stream().mapToInt(d -> shape[d]).toArray();
        int[] redStrides = reducedDims.stream().mapToInt(d -> x.strides()[d]).toArray();
        int count = 1;
        for (int s : redShape) count *= s;
        if (redShape.length > MAXD) throw new IllegalArgumentException("opencl: reduce over more than " + MAXD + " axes");
        writeLayout(LAY_B, redShape);
        writeOperand(OPB0, 0, redStrides);
        p[I0] = count;
        p[I0 + 1] = indices == null ? 0 : 1;
        kernel.sub = op.ordinal();
        launch("reduce " + op, OP_REDUCE, out.numel());
    }

    /** The dims {@code dims} of a view as a view of its own. */
    private static Strided pick(Strided v, List<Integer> dims) {
        int[] sh = dims.stream().mapToInt(d -> v.shape()[d]).toArray();
        int[] st = dims.stream().mapToInt(d -> v.strides()[d]).toArray();
        return new Strided(v.storage(), v.offset(), sh, st);
    }

    // ================================================================ linear algebra

    @Override
    public synchronized void matmul(Strided x, Strided y, Strided out) {
        dst("matmul", out);
        int r = out.rank();
        int m = x.shape()[r - 2], k = x.shape()[r - 1], n = y.shape()[r - 1];
        if (out.numel() == 0) return;
        if (k == 0) {
            new Elementwise(out.shape(), out).write();
            kernel.sub = UnaryOp.FILL.ordinal();
            kernel.fa = 0f;
            System.arraycopy(p, OP0, p, OP1, 9);
            launch("matmul", OP_UNARY, out.numel());
            return;
        }
        int[] xs = x.strides(), ys = y.strides(), os = out.strides();
        if (useTiledMatmul(m, n)) {
            matmulTiled(x, y, out, m, k, n);
            return;
        }
        int[] xv = xs.clone(), yv = ys.clone();
        xv[r - 1] = 0;           // x[b, i, 0]: j does not move x
        yv[r - 2] = 0;           // y[b, 0, j]: i does not move y
        Strided xa = new Strided(x.storage(), x.offset(), out.shape(), xv);
        Strided ya = new Strided(y.storage(), y.offset(), out.shape(), yv);
        new Elementwise(out.shape(), xa, ya, out).write();
        p[I0] = k;
        p[I0 + 1] = xs[r - 1];
        p[I0 + 2] = ys[r - 2];
        launch("matmul", OP_MATMUL, out.numel());
    }

    /** "auto" (tiled when both M and N are at least {@value GradKernel#TILE}), "tiled" or "simple". */
    private String matmulKernel = System.getProperty("grad4j.opencl.matmul", "auto");

    /** For benchmarks: which matmul kernel to use ("auto", "tiled", "simple"). */
    synchronized void setMatmulKernel(String kind) {
        matmulKernel = kind;
    }

    private boolean useTiledMatmul(int m, int n) {
        if (device.getMaxWorkGroupSize() < TILE * TILE || matmulKernel.equals("simple")) return false;
        return matmulKernel.equals("tiled") || (m >= TILE && n >= TILE);
    }

    /**
     * Local-memory tiled product: one work-group of TILE x TILE items per output tile; batches
     * are addressed through layout A over the batch dims only.
     */
    private void matmulTiled(Strided x, Strided y, Strided out, int m, int k, int n) {
        int r = out.rank();
        int[] batch = Arrays.copyOf(out.shape(), r - 2);
        Strided xb = new Strided(x.storage(), x.offset(), batch, Arrays.copyOf(x.strides(), r - 2));
        Strided yb = new Strided(y.storage(), y.offset(), batch, Arrays.copyOf(y.strides(), r - 2));
        Strided ob = new Strided(out.storage(), out.offset(), batch, Arrays.copyOf(out.strides(), r - 2));
        new Elementwise(batch, xb, yb, ob).write();
        int batches = 1;
        for (int b : batch) batches *= b;
        int tilesM = (m + TILE - 1) / TILE, tilesN = (n + TILE - 1) / TILE;
        int[] v = {k, m, n, x.strides()[r - 2], x.strides()[r - 1], y.strides()[r - 2], y.strides()[r - 1],
                out.strides()[r - 2], out.strides()[r - 1], tilesN, tilesM * tilesN, batches};
        System.arraycopy(v, 0, p, I0, v.length);
        long items = (long) batches * tilesM * tilesN * TILE * TILE;
        if (items > Integer.MAX_VALUE) throw new IllegalArgumentException("opencl: matmul too large for one launch");
        launch("matmul", OP_MATMUL_TILED, (int) items, device.createRange((int) items, TILE * TILE));
    }

    @Override
    public synchronized void solve(Strided a, Strided b, Strided out) {
        hostFallback("solve", out, (ref, result) -> ref.solve(heap(a, ref), heap(b, ref), result));
    }

    @Override
    public synchronized void topk(Strided x, int k, boolean largest, Strided indices) {
        hostFallback("topk", indices, (ref, result) -> ref.topk(heap(x, ref), k, largest, result));
    }

    private interface HostKernel {
        void run(ReferenceBackend ref, Strided heapOut);
    }

    /** Downloads inputs (inside {@code body}), runs the reference kernel, uploads the result: all counted. */
    private void hostFallback(String op, Strided out, HostKernel body) {
        dst(op, out);
        int n = out.numel();
        HeapStorage result = new HeapStorage(ReferenceBackend.INSTANCE, DType.FLOAT64, n);
        body.run(ReferenceBackend.INSTANCE, Strided.contiguous(result, out.shape()));
        hostFallbacks++;
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) result.get(i);
        OpenClStorage tmp = put(out.storage().dtype(), f);
        copy(Strided.contiguous(tmp, out.shape()), out);
    }

    /** A contiguous FLOAT64 heap copy of a device view (a counted download). */
    private Strided heap(Strided v, ReferenceBackend ref) {
        return Strided.contiguous(ref.upload(download(v), DType.FLOAT64), v.shape());
    }

    // ================================================================ indexing

    @Override
    public synchronized void indexSelect(Strided x, int dim, Strided index, Strided out) {
        int[] is = new int[out.rank()];
        is[dim] = index.strides()[0];
        gatherLike("indexSelect", x, dim, new Strided(index.storage(), index.offset(), out.shape(), is), out);
    }

    @Override
    public synchronized void gather(Strided x, int dim, Strided index, Strided out) {
        gatherLike("gather", x, dim, index, out);
    }

    private void gatherLike(String op, Strided x, int dim, Strided index, Strided out) {
        dst(op, out);
        int[] xs = x.strides();
        int[] xv = xs.clone();
        xv[dim] = 0;
        Strided xa = new Strided(x.storage(), x.offset(), out.shape(), xv);
        new Elementwise(out.shape(), xa, index, out).write();
        p[I0] = xs[dim];
        launch(op, OP_GATHER, out.numel());
    }

    @Override
    public synchronized void indexAdd(Strided src, int dim, Strided index, Strided out) {
        int[] is = new int[src.rank()];
        is[dim] = index.strides()[0];
        scatterLike("indexAdd", src, dim, new Strided(index.storage(), index.offset(), src.shape(), is), out);
    }

    @Override
    public synchronized void scatterAdd(Strided src, int dim, Strided index, Strided out) {
        // the reference walks the index's shape; src has the same shape
        scatterLike("scatterAdd", new Strided(src.storage(), src.offset(), index.shape(), src.strides()), dim, index, out);
    }

    private void scatterLike(String op, Strided src, int dim, Strided index, Strided out) {
        dst(op, out);
        int[] cols = src.shape();
        int len = cols[dim];
        cols[dim] = 1;
        int[] ss = src.strides(), is = index.strides(), os = out.strides();
        Strided sa = new Strided(src.storage(), src.offset(), cols, zeroAt(ss, dim));
        Strided ia = new Strided(index.storage(), index.offset(), cols, zeroAt(is, dim));
        Strided oa = new Strided(out.storage(), out.offset(), cols, zeroAt(os, dim));
        Elementwise e = new Elementwise(cols, sa, ia, oa);
        e.write();
        p[I0] = len;
        p[I0 + 1] = ss[dim];
        p[I0 + 2] = is[dim];
        p[I0 + 3] = os[dim];
        int columns = 1;
        for (int c : cols) columns *= c;
        if (len > 0) launch(op, OP_SCATTER_ADD, columns);
    }

    private static int[] zeroAt(int[] strides, int dim) {
        int[] s = strides.clone();
        s[dim] = 0;
        return s;
    }

    // ================================================================ convolution helpers

    private void convParams(int[] x, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
        int[] v = {x[1], x[2], x[3], kh, kw, sh, sw, ph, pw, oh, ow};
        System.arraycopy(v, 0, p, I0, v.length);
    }

    @Override
    public synchronized void im2col(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        dst("im2col", out);
        int[] s = x.shape();
        int oh = (s[2] + 2 * ph - kh) / sh + 1;
        int ow = (s[3] + 2 * pw - kw) / sw + 1;
        layout(out.shape(), x, out);
        convParams(s, kh, kw, sh, sw, ph, pw, oh, ow);
        launch("im2col", OP_IM2COL, out.numel());
    }

    @Override
    public synchronized void col2im(Strided cols, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        dst("col2im", out);
        int[] s = out.shape();
        int oh = (s[2] + 2 * ph - kh) / sh + 1;
        int ow = (s[3] + 2 * pw - kw) / sw + 1;
        layout(s, cols, out);
        convParams(s, kh, kw, sh, sw, ph, pw, oh, ow);
        launch("col2im", OP_COL2IM, out.numel());
    }

    @Override
    public synchronized void maxPool2d(Strided x, int kh, int kw, int sh, int sw, int ph, int pw,
                                       Strided out, Strided indices) {
        dst("maxPool2d", out);
        base("maxPool2d", "indices", indices);
        int[] o = out.shape();
        layout(o, x, out, indices);
        convParams(x.shape(), kh, kw, sh, sw, ph, pw, o[2], o[3]);
        launch("maxPool2d", OP_MAXPOOL, out.numel());
    }

    @Override
    public String toString() {
        return "opencl on " + describeDevice();
    }
}
