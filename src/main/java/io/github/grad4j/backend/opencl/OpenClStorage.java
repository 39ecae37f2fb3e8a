package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Storage;

/**
 * A region of the OpenCL backend's device pool: {@code size} elements starting at
 * {@link #poolOffset()}. INT32 elements are held as exact float values (|v| &lt; 2^24).
 * The region is returned to the pool when this object becomes unreachable.
 *
 * <p>{@link #get} and {@link #set} move one element across the host/device boundary each
 * (counted in the transfer statistics): fine for scalars and tests, not for loops.
 */
public final class OpenClStorage extends Storage {
    private final OpenClBackend owner;
    private final int poolOffset;

    OpenClStorage(OpenClBackend owner, DType dtype, int size, int poolOffset) {
        super(owner, dtype, size);
        this.owner = owner;
        this.poolOffset = poolOffset;
    }

    /** Offset of element 0 in the device pool. */
    public int poolOffset() {
        return poolOffset;
    }

    @Override
    public double get(int i) {
        checkIndex(i);
        return owner.readElement(this, i);
    }

    @Override
    public void set(int i, double value) {
        checkIndex(i);
        owner.writeElement(this, i, value);
    }

    private void checkIndex(int i) {
        if (i < 0 || i >= size()) {
            throw new IndexOutOfBoundsException("opencl storage: index " + i + " outside [0, " + size() + ")");
        }
    }
}
