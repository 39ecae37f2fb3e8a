package io.github.grad4j.backend;

/**
 * Storage in a Java array: float[] for FLOAT32, double[] for FLOAT64, int[] for INT32.
 * Shared by the reference backend and the CPU backends, which read the arrays directly.
 */
public final class HeapStorage extends Storage {
    private final float[] floats;
    private final double[] doubles;
    private final int[] ints;

    public HeapStorage(Backend backend, DType dtype, int size) {
        super(backend, dtype, size);
        this.floats = dtype == DType.FLOAT32 ? new float[size] : null;
        this.doubles = dtype == DType.FLOAT64 ? new double[size] : null;
        this.ints = dtype == DType.INT32 ? new int[size] : null;
    }

    private HeapStorage(Backend backend, float[] f) {
        super(backend, DType.FLOAT32, f.length);
        this.floats = f;
        this.doubles = null;
        this.ints = null;
    }

    private HeapStorage(Backend backend, int[] n) {
        super(backend, DType.INT32, n.length);
        this.floats = null;
        this.doubles = null;
        this.ints = n;
    }

    /** Wraps (does not copy) a float array. */
    public static HeapStorage wrap(Backend backend, float[] data) {
        return new HeapStorage(backend, data);
    }

    /** Wraps (does not copy) an int array. */
    public static HeapStorage wrap(Backend backend, int[] data) {
        return new HeapStorage(backend, data);
    }

    /** The backing array of a FLOAT32 storage (null for other dtypes). */
    public float[] floats() {
        return floats;
    }

    /** The backing array of a FLOAT64 storage (null for other dtypes). */
    public double[] doubles() {
        return doubles;
    }

    /** The backing array of an INT32 storage (null for other dtypes). */
    public int[] ints() {
        return ints;
    }

    @Override
    public double get(int i) {
        if (floats != null) return floats[i];
        if (doubles != null) return doubles[i];
        return ints[i];
    }

    @Override
    public void set(int i, double value) {
        if (floats != null) floats[i] = (float) value;
        else if (doubles != null) doubles[i] = value;
        else ints[i] = (int) value;
    }
}
