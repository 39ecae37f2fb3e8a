package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

import static io.github.grad4j.ops.OpSupport.*;

/** Selection by integer indices and its adjoint, scattering with addition. */
public final class Indexing {
    private Indexing() {
    }

    private static void checkIndexRange(String op, Tensor index, int size, int axis, int[] shape) {
        // Bounds are checked on the host: an out-of-range index is a user error worth a clear message.
        for (int i : index.toIntArray()) {
            if (i < 0 || i >= size) {
                throw new IndexOutOfBoundsException(op + ": index " + i + " is out of range for axis " + axis + " of size "
                        + size + " in " + Shape.str(shape));
            }
        }
    }

    /** Rows (or slices along {@code axis}) at the given indices: out[..., i, ...] = x[..., index[i], ...]. */
    public static Tensor indexSelect(Tensor x, int axis, Tensor index) {
        return indexSelect(x, axis, index, true);
    }

    /*
     * Index checks run on the host (on a device backend that reads every index back), so they run
     * once, where a user's indices enter. Backward rules reuse indices that their forward already
     * checked, or that an op's own kernel produced, and pass checkRange = false.
     */
    private static Tensor indexSelect(Tensor x, int axis, Tensor index, boolean checkRange) {
        requireIndex("indexSelect", "index", index);
        requireRank("indexSelect", "index", index, 1);
        backendOf("indexSelect", x, index);
        int a = Shape.axis("indexSelect", axis, x.dim());
        if (checkRange) checkIndexRange("indexSelect", index, x.size(a), axis, x.shape());
        int[] shape = x.shape();
        shape[a] = index.size(0);
        Tensor out = empty(x.backend(), x.dtype(), shape);
        x.backend().indexSelect(Views.contiguous(x.detach()).view(), a, Views.contiguous(index).view(), out.view());
        if (!x.dtype().isFloatingPoint()) return out;
        return record(out, "indexSelect", x, g ->
                new Tensor[]{indexAdd(Tensor.zeros(x.backend(), x.dtype(), x.shape()), a, index, g, false)});
    }

    /** base + src scattered along {@code axis}: out[..., index[i], ...] += src[..., i, ...]. */
    public static Tensor indexAdd(Tensor base, int axis, Tensor index, Tensor src) {
        return indexAdd(base, axis, index, src, true);
    }

    private static Tensor indexAdd(Tensor base, int axis, Tensor index, Tensor src, boolean checkRange) {
        requireIndex("indexAdd", "index", index);
        requireRank("indexAdd", "index", index, 1);
        backendOf("indexAdd", base, index, src);
        sameFloat("indexAdd", base, src);
        int a = Shape.axis("indexAdd", axis, base.dim());
        // unchecked, an index one past the end would add silently into the next row of the storage
        if (checkRange) checkIndexRange("indexAdd", index, base.size(a), axis, base.shape());
        int[] expected = base.shape();
        expected[a] = index.size(0);
        if (!Arrays.equals(expected, src.shape())) {
            throw new IllegalArgumentException("indexAdd: src shape " + Shape.str(src.shape()) + " should be "
                    + Shape.str(expected) + " for base " + Shape.str(base.shape()) + " and " + index.size(0) + " indices");
        }
        Tensor out = Views.clone(base.detach());
        base.backend().indexAdd(Views.contiguous(src.detach()).view(), a, Views.contiguous(index).view(), out.view());
        return record(out, "indexAdd", new Tensor[]{base, src}, g -> new Tensor[]{
                wants(base) ? g : null,
                wants(src) ? indexSelect(g, a, index, false) : null});
    }

    /** out[i][j][k] = x[i][index[i][j][k]][k] (for axis 1); index has x's rank and may be smaller on axis. */
    public static Tensor gather(Tensor x, int axis, Tensor index) {
        return gather(x, axis, index, true);
    }

    private static Tensor gather(Tensor x, int axis, Tensor index, boolean checkRange) {
        requireIndex("gather", "index", index);
        backendOf("gather", x, index);
        int a = Shape.axis("gather", axis, x.dim());
        checkSameExcept("gather", x, index, a);
        if (checkRange) checkIndexRange("gather", index, x.size(a), axis, x.shape());
        Tensor out = empty(x.backend(), x.dtype(), index.shape());
        x.backend().gather(Views.contiguous(x.detach()).view(), a, Views.contiguous(index).view(), out.view());
        return record(out, "gather", x, g ->
                new Tensor[]{scatterAdd(null, x.shape(), a, index, g, false)});
    }

    /** base + src scattered: out[i][index[i][j][k]][k] += src[i][j][k] (for axis 1). */
    public static Tensor scatterAdd(Tensor base, int axis, Tensor index, Tensor src) {
        return scatterAdd(base, axis, index, src, true);
    }

    /**
     * {@link #scatterAdd} into zeros of {@code shape}, for indices that an op's own kernel wrote
     * (max pooling, max/min reductions), which lie in range by construction: the host range check is
     * skipped, because on a device backend it reads every index back to the host on each backward
     * pass; and no zero base is allocated and copied.
     */
    static Tensor scatterAddIntoZeros(int[] shape, int axis, Tensor index, Tensor src) {
        return scatterAdd(null, shape, axis, index, src, false);
    }

    /** {@link #gather} for indices the caller has already range-checked on the host (cross-entropy targets). */
    static Tensor gatherCheckedIndices(Tensor x, int axis, Tensor index) {
        return gather(x, axis, index, false);
    }

    private static Tensor scatterAdd(Tensor base, int axis, Tensor index, Tensor src, boolean checkRange) {
        return scatterAdd(base, base.shape(), axis, index, src, checkRange);
    }

    /** base + src scattered, or zeros of {@code shape} + src scattered when base is null. */
    private static Tensor scatterAdd(Tensor base, int[] shape, int axis, Tensor index, Tensor src, boolean checkRange) {
        requireIndex("scatterAdd", "index", index);
        if (base == null) {
            backendOf("scatterAdd", index, src);
            requireFloat("scatterAdd", "src", src);
        } else {
            backendOf("scatterAdd", base, index, src);
            sameFloat("scatterAdd", base, src);
        }
        int a = Shape.axis("scatterAdd", axis, shape.length);
        if (!Arrays.equals(index.shape(), src.shape())) {
            throw new IllegalArgumentException("scatterAdd: index " + Shape.str(index.shape()) + " and src "
                    + Shape.str(src.shape()) + " must have the same shape");
        }
        Tensor out = base == null ? Tensor.zeros(src.backend(), src.dtype(), shape) : Views.clone(base.detach());
        checkSameExcept("scatterAdd", out, index, a);
        if (checkRange) checkIndexRange("scatterAdd", index, shape[a], axis, shape);
        src.backend().scatterAdd(Views.contiguous(src.detach()).view(), a, Views.contiguous(index).view(), out.view());
        if (base == null) return record(out, "scatterAdd", src, g -> new Tensor[]{gather(g, a, index, false)});
        return record(out, "scatterAdd", new Tensor[]{base, src}, g -> new Tensor[]{
                wants(base) ? g : null,
                wants(src) ? gather(g, a, index, false) : null});
    }

    private static void checkSameExcept(String op, Tensor x, Tensor index, int axis) {
        if (index.dim() != x.dim()) {
            throw new IllegalArgumentException(op + ": index " + Shape.str(index.shape()) + " must have the rank of "
                    + Shape.str(x.shape()));
        }
        for (int d = 0; d < x.dim(); d++) {
            if (d != axis && index.size(d) != x.size(d)) {
                throw new IllegalArgumentException(op + ": index " + Shape.str(index.shape()) + " and tensor "
                        + Shape.str(x.shape()) + " differ on axis " + d);
            }
        }
    }

    /** Rows of an embedding table [V, D] for integer ids of any shape: result ids.shape + [D]. */
    public static Tensor embedding(Tensor weight, Tensor ids) {
        requireRank("embedding", "weight", weight, 2);
        requireIndex("embedding", "ids", ids);
        Tensor rows = indexSelect(weight, 0, Views.reshape(ids, ids.numel()));
        return Views.reshape(rows, Shape.concat(ids.shape(), new int[]{weight.size(1)}));
    }

    /** Indices (INT32) of the k largest (or smallest) values along the last axis; no gradient. */
    public static Tensor topkIndices(Tensor x, int k, boolean largest) {
        requireFloat("topk", "x", x);
        if (x.dim() == 0) throw new IllegalArgumentException("topk: x must have rank >= 1");
        int n = x.size(-1);
        if (k < 0 || k > n) {
            throw new IllegalArgumentException("topk: k = " + k + " is outside [0, " + n + "] for " + Shape.str(x.shape()));
        }
        int[] shape = x.shape();
        shape[shape.length - 1] = k;
        Tensor out = empty(x.backend(), DType.INT32, shape);
        x.backend().topk(x.view(), k, largest, out.view());
        return out;
    }

    /** One-hot rows [N, classes] of labels (INT32, rank 1) in the given float dtype; no gradient. */
    public static Tensor oneHot(Tensor labels, int classes, DType dtype) {
        requireIndex("oneHot", "labels", labels);
        requireRank("oneHot", "labels", labels, 1);
        Tensor zeros = Tensor.zeros(labels.backend(), dtype, labels.size(0), classes);
        Tensor ones = Views.contiguous(Views.expand(zeros.constant(1.0), labels.size(0), 1));
        return scatterAdd(zeros, 1, Views.reshape(labels, labels.size(0), 1), ones);
    }
}
