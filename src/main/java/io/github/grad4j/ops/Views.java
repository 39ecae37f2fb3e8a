package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.github.grad4j.ops.OpSupport.*;

/**
 * Shape ops. Most return views that share storage with their input (no copy); their backward rules
 * are the inverse view, or a sum for expand and a zero-padding for narrow.
 */
public final class Views {
    private Views() {
    }

    private static Tensor view(Tensor x, int offset, int[] shape, int[] strides) {
        return new Tensor(x.storage(), offset, shape, strides);
    }

    // ---------------------------------------------------------------- reshape

    /** New shape with the same elements in row-major order; one dimension may be -1 (inferred). */
    public static Tensor reshape(Tensor x, int... newShape) {
        int[] shape = inferShape(x, newShape);
        if (Arrays.equals(shape, x.shape())) return x;
        int[] strides = viewStrides(x.shape(), x.strides(), shape);
        Tensor out;
        if (strides != null) {
            out = view(x, x.offset(), shape, strides);
        } else {
            Tensor c = copy(x);
            out = view(c, 0, shape, Strided.rowMajorStrides(shape));
        }
        return record(out, "reshape", x, g -> new Tensor[]{reshape(g, x.shape())});
    }

    private static int[] inferShape(Tensor x, int[] newShape) {
        int[] shape = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("reshape: only one dimension can be -1, got "
                        + Shape.str(newShape));
                infer = d;
            } else if (shape[d] < 0) {
                throw new IllegalArgumentException("reshape: invalid dimension " + shape[d] + " in " + Shape.str(newShape));
            } else {
                known *= shape[d];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot reshape " + Shape.str(x.shape()) + " into "
                        + Shape.str(newShape));
            }
            shape[infer] = (int) (x.numel() / known);
        }
        if (Shape.numel(shape) != x.numel()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + Shape.str(x.shape()) + " ("
                    + x.numel() + " elements) into " + Shape.str(newShape));
        }
        return shape;
    }

    /**
     * Strides that give {@code newShape} over the same memory without copying, or null when the
     * old layout does not allow it (the rule PyTorch's view uses: merge/split only runs of axes
     * that are contiguous with each other).
     */
    static int[] viewStrides(int[] oldShape, int[] oldStrides, int[] newShape) {
        if (Shape.numel(oldShape) == 0) return Strided.rowMajorStrides(newShape);
        // drop size-1 axes of the old layout: they constrain nothing
        List<int[]> dims = new ArrayList<>();
        for (int d = 0; d < oldShape.length; d++) if (oldShape[d] != 1) dims.add(new int[]{oldShape[d], oldStrides[d]});
        int[] newStrides = new int[newShape.length];
        int oi = 0, ni = 0;
        while (ni < newShape.length) {
            if (newShape[ni] == 1) {
                newStrides[ni] = 1;
                ni++;
                continue;
            }
            if (oi >= dims.size()) return null;
            // take a run of old axes that are mutually contiguous, with total size matching new axes
            long oldSize = dims.get(oi)[0];
            int runEnd = oi;
            long newSize = newShape[ni];
            int newEnd = ni;
            while (oldSize != newSize) {
                if (oldSize < newSize) {
                    runEnd++;
                    if (runEnd >= dims.size()) return null;
                    if (dims.get(runEnd - 1)[1] != dims.get(runEnd)[1] * dims.get(runEnd)[0]) return null;
                    oldSize *= dims.get(runEnd)[0];
                } else {
                    newEnd++;
                    if (newEnd >= newShape.length) return null;
                    newSize *= newShape[newEnd];
                }
            }
            // assign strides within the new run from the innermost old stride
            long stride = dims.get(runEnd)[1];
            for (int d = newEnd; d >= ni; d--) {
                newStrides[d] = (int) stride;
                stride *= newShape[d];
            }
            oi = runEnd + 1;
            ni = newEnd + 1;
        }
        return oi == dims.size() ? newStrides : null;
    }

    /** Flattens axes startAxis..end into one. */
    public static Tensor flatten(Tensor x, int startAxis) {
        int s = Shape.axis("flatten", startAxis, Math.max(x.dim(), 1));
        int[] shape = new int[s + 1];
        System.arraycopy(x.shape(), 0, shape, 0, s);
        shape[s] = -1;
        return reshape(x, shape);
    }

    public static Tensor unsqueeze(Tensor x, int axis) {
        int a = Shape.axis("unsqueeze", axis, x.dim() + 1);
        int[] shape = new int[x.dim() + 1];
        for (int d = 0, j = 0; d < shape.length; d++) shape[d] = d == a ? 1 : x.shape()[j++];
        return reshape(x, shape);
    }

    public static Tensor squeeze(Tensor x, int axis) {
        int a = Shape.axis("squeeze", axis, x.dim());
        if (x.size(a) != 1) {
            throw new IllegalArgumentException("squeeze: axis " + axis + " of " + Shape.str(x.shape()) + " has size "
                    + x.size(a) + ", not 1");
        }
        int[] shape = new int[x.dim() - 1];
        for (int d = 0, j = 0; d < x.dim(); d++) if (d != a) shape[j++] = x.shape()[d];
        return reshape(x, shape);
    }

    // ---------------------------------------------------------------- permute / transpose

    public static Tensor permute(Tensor x, int... axes) {
        int rank = x.dim();
        if (axes.length != rank) {
            throw new IllegalArgumentException("permute: " + axes.length + " axes given for a tensor of rank " + rank
                    + " " + Shape.str(x.shape()));
        }
        int[] shape = new int[rank];
        int[] strides = new int[rank];
        int[] inverse = new int[rank];
        boolean[] used = new boolean[rank];
        for (int d = 0; d < rank; d++) {
            int a = Shape.axis("permute", axes[d], rank);
            if (used[a]) throw new IllegalArgumentException("permute: axis " + axes[d] + " repeated in " + Shape.str(axes));
            used[a] = true;
            shape[d] = x.shape()[a];
            strides[d] = x.strides()[a];
            inverse[a] = d;
        }
        Tensor out = view(x, x.offset(), shape, strides);
        return record(out, "permute", x, g -> new Tensor[]{permute(g, inverse)});
    }

    public static Tensor transpose(Tensor x, int a, int b) {
        int rank = x.dim();
        int[] axes = new int[rank];
        for (int d = 0; d < rank; d++) axes[d] = d;
        int na = Shape.axis("transpose", a, rank), nb = Shape.axis("transpose", b, rank);
        axes[na] = nb;
        axes[nb] = na;
        return permute(x, axes);
    }

    // ---------------------------------------------------------------- narrow / select / pad

    /** Elements start..start+length-1 along an axis (a view). */
    public static Tensor narrow(Tensor x, int axis, int start, int length) {
        int a = Shape.axis("narrow", axis, x.dim());
        if (start < 0 || length < 0 || start + length > x.size(a)) {
            throw new IllegalArgumentException("narrow: range [" + start + ", " + (start + length) + ") is outside axis "
                    + axis + " of size " + x.size(a) + " in " + Shape.str(x.shape()));
        }
        int[] shape = x.shape();
        shape[a] = length;
        Tensor out = view(x, x.offset() + start * x.strides()[a], shape, x.strides());
        return record(out, "narrow", x, g -> new Tensor[]{pad(g, a, start, x.size(a) - start - length)});
    }

    /** The slice at {@code index} along an axis, with that axis removed. */
    public static Tensor select(Tensor x, int axis, int index) {
        int a = Shape.axis("select", axis, x.dim());
        return squeeze(narrow(x, a, index, 1), a);
    }

    /** Zero padding along an axis: {@code before} zeros, x, {@code after} zeros (the adjoint of narrow). */
    public static Tensor pad(Tensor x, int axis, int before, int after) {
        int a = Shape.axis("pad", axis, x.dim());
        int[] shape = x.shape();
        shape[a] += before + after;
        Tensor out = empty(x.backend(), x.dtype(), shape);
        Strided target = new Strided(out.storage(), before * out.strides()[a], x.shape(), out.strides());
        x.backend().copy(x.view(), target);
        return record(out, "pad", x, g -> new Tensor[]{narrow(g, a, before, x.size(a))});
    }

    // ---------------------------------------------------------------- expand / copy / cast

    /** Broadcasts size-1 axes (and new leading axes) to {@code shape} without copying. */
    public static Tensor expand(Tensor x, int... shape) {
        int[] target = shape.clone();
        int lead = target.length - x.dim();
        if (lead < 0) {
            throw new IllegalArgumentException("expand: cannot expand " + Shape.str(x.shape()) + " to fewer axes "
                    + Shape.str(shape));
        }
        for (int d = 0; d < x.dim(); d++) {
            if (target[d + lead] == -1) target[d + lead] = x.shape()[d];
            if (x.shape()[d] != 1 && x.shape()[d] != target[d + lead]) {
                throw new IllegalArgumentException("expand: cannot expand " + Shape.str(x.shape()) + " to "
                        + Shape.str(shape) + " (axis " + d + ")");
            }
        }
        if (Arrays.equals(target, x.shape())) return x;
        Strided v = broadcastView(x, target);
        Tensor out = view(x, v.offset(), target, v.strides());
        return record(out, "expand", x, g -> new Tensor[]{Reductions.sumToShape(g, x.shape())});
    }

    /** A contiguous copy when x is not contiguous; x itself otherwise. */
    public static Tensor contiguous(Tensor x) {
        if (x.isContiguous()) return x;
        Tensor out = copy(x);
        return record(out, "contiguous", x, g -> new Tensor[]{g});
    }

    /** A fresh contiguous copy (no graph: callers record). */
    private static Tensor copy(Tensor x) {
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        x.backend().copy(x.view(), out.view());
        return out;
    }

    /** A differentiable copy (a new storage), as torch's clone. */
    public static Tensor clone(Tensor x) {
        Tensor out = copy(x);
        return record(out, "clone", x, g -> new Tensor[]{g});
    }

    /** Converts to another dtype; differentiable between float types, gradient-free to/from INT32. */
    public static Tensor cast(Tensor x, DType dtype) {
        if (x.dtype() == dtype) return x;
        Tensor out = empty(x.backend(), dtype, x.shape());
        x.backend().copy(x.view(), out.view());
        if (!dtype.isFloatingPoint()) return out;
        DType from = x.dtype();
        return record(out, "cast", x, g -> new Tensor[]{cast(g, from)});
    }

    // ---------------------------------------------------------------- concat / stack / split

    /** Joins tensors along an existing axis. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("concat: no tensors given");
        Tensor first = parts[0];
        int a = Shape.axis("concat", axis, first.dim());
        backendOf("concat", parts);
        int total = 0;
        for (int i = 0; i < parts.length; i++) {
            Tensor p = parts[i];
            if (p.dim() != first.dim() || p.dtype() != first.dtype()) {
                throw new IllegalArgumentException("concat: tensor " + i + " (" + p.dtype() + " " + Shape.str(p.shape())
                        + ") does not match tensor 0 (" + first.dtype() + " " + Shape.str(first.shape()) + ")");
            }
            for (int d = 0; d < p.dim(); d++) {
                if (d != a && p.size(d) != first.size(d)) {
                    throw new IllegalArgumentException("concat: tensor " + i + " " + Shape.str(p.shape())
                            + " differs from tensor 0 " + Shape.str(first.shape()) + " on axis " + d);
                }
            }
            total += p.size(a);
        }
        int[] shape = first.shape();
        shape[a] = total;
        Tensor out = empty(first.backend(), first.dtype(), shape);
        int[] starts = new int[parts.length];
        int at = 0;
        for (int i = 0; i < parts.length; i++) {
            starts[i] = at;
            Strided target = new Strided(out.storage(), at * out.strides()[a], parts[i].shape(), out.strides());
            first.backend().copy(parts[i].view(), target);
            at += parts[i].size(a);
        }
        if (!first.dtype().isFloatingPoint()) return out;
        return record(out, "concat", parts, g -> {
            Tensor[] grads = new Tensor[parts.length];
            for (int i = 0; i < parts.length; i++) {
                if (wants(parts[i])) grads[i] = narrow(g, a, starts[i], parts[i].size(a));
            }
            return grads;
        });
    }

    /** Joins tensors of equal shape along a new axis. */
    public static Tensor stack(int axis, Tensor... parts) {
        if (parts.length == 0) throw new IllegalArgumentException("stack: no tensors given");
        int a = Shape.axis("stack", axis, parts[0].dim() + 1);
        Tensor[] expanded = new Tensor[parts.length];
        for (int i = 0; i < parts.length; i++) {
            if (!Arrays.equals(parts[i].shape(), parts[0].shape())) {
                throw new IllegalArgumentException("stack: tensor " + i + " " + Shape.str(parts[i].shape())
                        + " differs from tensor 0 " + Shape.str(parts[0].shape()));
            }
            expanded[i] = unsqueeze(parts[i], a);
        }
        return concat(a, expanded);
    }

    /** Splits along an axis into pieces of the given sizes (views). */
    public static Tensor[] split(Tensor x, int axis, int... sizes) {
        int a = Shape.axis("split", axis, x.dim());
        int total = 0;
        for (int s : sizes) total += s;
        if (total != x.size(a)) {
            throw new IllegalArgumentException("split: sizes " + Shape.str(sizes) + " sum to " + total + ", but axis "
                    + axis + " of " + Shape.str(x.shape()) + " has size " + x.size(a));
        }
        Tensor[] out = new Tensor[sizes.length];
        int at = 0;
        for (int i = 0; i < sizes.length; i++) {
            out[i] = narrow(x, a, at, sizes[i]);
            at += sizes[i];
        }
        return out;
    }
}
