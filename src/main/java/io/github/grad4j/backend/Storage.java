package io.github.grad4j.backend;

/**
 * A flat buffer of elements owned by one backend. Tensors are views (offset, shape, strides)
 * over a storage; several tensors may share one storage.
 *
 * <p>The element accessors exist for tests, gradient checks and small host-side work; hot paths
 * go through the backend's kernels, which may keep the data off the Java heap or on a device.
 */
public abstract class Storage {
    private final Backend backend;
    private final DType dtype;
    private final int size;

    protected Storage(Backend backend, DType dtype, int size) {
        if (size < 0) throw new IllegalArgumentException("storage size must be >= 0, got " + size);
        this.backend = backend;
        this.dtype = dtype;
        this.size = size;
    }

    public final Backend backend() {
        return backend;
    }

    public final DType dtype() {
        return dtype;
    }

    /** Number of elements. */
    public final int size() {
        return size;
    }

    /** Element {@code i} as a double (exact for all three dtypes). */
    public abstract double get(int i);

    /** Sets element {@code i}, rounding to the storage's dtype. */
    public abstract void set(int i, double value);
}
