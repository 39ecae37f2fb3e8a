package io.github.grad4j.backend;

import java.util.Arrays;

/**
 * What a kernel sees of a tensor: a storage, an element offset, a shape and strides (in elements).
 * Strides may be zero (broadcast) or any permutation (transposed views); kernels must honour them.
 */
public record Strided(Storage storage, int offset, int[] shape, int[] strides) {

    public Strided {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and strides "
                    + Arrays.toString(strides) + " differ in rank");
        }
    }

    public int rank() {
        return shape.length;
    }

    public int numel() {
        int n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    /** True when the elements are laid out row-major without gaps starting at offset. */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /** Storage index of the element at flat row-major position {@code flat} of this view. */
    public int indexOf(int flat) {
        int idx = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            int i = flat % n;
            flat /= n;
            idx += i * strides[d];
        }
        return idx;
    }

    /** A contiguous row-major view of a whole storage. */
    public static Strided contiguous(Storage storage, int[] shape) {
        return new Strided(storage, 0, shape, rowMajorStrides(shape));
    }

    public static int[] rowMajorStrides(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            strides[d] = s;
            s *= Math.max(shape[d], 1);
        }
        return strides;
    }

    @Override
    public String toString() {
        return "Strided[" + storage.dtype() + ", offset=" + offset + ", shape=" + Arrays.toString(shape)
                + ", strides=" + Arrays.toString(strides) + "]";
    }
}
