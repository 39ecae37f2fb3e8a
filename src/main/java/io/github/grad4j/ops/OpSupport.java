package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.autograd.Node;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/** Checks, allocation and graph recording shared by all op classes. */
final class OpSupport {
    private OpSupport() {
    }

    /** The backend that owns all the (non-null) tensors, or an error naming the op and both backends. */
    static Backend backendOf(String op, Tensor... tensors) {
        Backend b = null;
        for (Tensor t : tensors) {
            if (t == null) continue;
            if (b == null) b = t.backend();
            else if (t.backend() != b) {
                throw new IllegalArgumentException(op + ": inputs live on different backends ('" + b.name()
                        + "' and '" + t.backend().name() + "'); move them with Tensor.to(backend) first");
            }
        }
        return b;
    }

    static void requireFloat(String op, String arg, Tensor t) {
        if (!t.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be FLOAT32 or FLOAT64, got "
                    + t.dtype() + " " + Shape.str(t.shape()));
        }
    }

    static void requireIndex(String op, String arg, Tensor t) {
        if (t.dtype() != DType.INT32) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be an INT32 index tensor, got "
                    + t.dtype() + " " + Shape.str(t.shape()));
        }
    }

    /** The shared floating dtype of two operands, or an error naming the op. */
    static DType sameFloat(String op, Tensor a, Tensor b) {
        requireFloat(op, "a", a);
        requireFloat(op, "b", b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": dtypes differ (" + a.dtype() + " " + Shape.str(a.shape())
                    + " and " + b.dtype() + " " + Shape.str(b.shape()) + "); convert one with toDType");
        }
        return a.dtype();
    }

    static void requireRank(String op, String arg, Tensor t, int rank) {
        if (t.dim() != rank) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must have rank " + rank
                    + ", got shape " + Shape.str(t.shape()));
        }
    }

    static Tensor empty(Backend backend, DType dtype, int[] shape) {
        return new Tensor(backend.allocate(dtype, Shape.numel(shape)), shape);
    }

    /** A contiguous tensor's elements as a rank-1 kernel view. */
    static Strided flat1(Tensor t) {
        return new Strided(t.storage(), t.offset(), new int[]{t.numel()}, new int[]{1});
    }

    /** A contiguous tensor's elements as a rank-3 kernel view [a, b, c] (e.g. [N, C, spatial]). */
    static Strided flat3(Tensor t, int a, int b, int c) {
        int[] shape = {a, b, c};
        return new Strided(t.storage(), t.offset(), shape, Strided.rowMajorStrides(shape));
    }

    /** t viewed with the given (broadcast) shape: size-1 and missing leading axes get stride 0. */
    static Strided broadcastView(Tensor t, int[] shape) {
        int[] ts = t.shape();
        int[] tst = t.strides();
        int[] strides = new int[shape.length];
        int lead = shape.length - ts.length;
        for (int d = 0; d < shape.length; d++) {
            if (d < lead) continue;
            int src = d - lead;
            strides[d] = ts[src] == 1 && shape[d] != 1 ? 0 : tst[src];
        }
        return new Strided(t.storage(), t.offset(), shape, strides);
    }

    static boolean anyRequiresGrad(Tensor... inputs) {
        if (!GradMode.isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /** Attaches a node to {@code out} when recording is on and some input requires a gradient. */
    static Tensor record(Tensor out, String op, Tensor[] inputs, Node.Backward backward) {
        if (anyRequiresGrad(inputs)) out.withGradFn(new Node(op, inputs, backward, true));
        return out;
    }

    static Tensor record(Tensor out, String op, Tensor input, Node.Backward backward) {
        return record(out, op, new Tensor[]{input}, backward);
    }

    /** Like record, for an op whose backward rule is not differentiable: a second derivative fails. */
    static Tensor recordFirstOrderOnly(Tensor out, String op, Tensor[] inputs, Node.Backward backward) {
        if (anyRequiresGrad(inputs)) out.withGradFn(new Node(op, inputs, backward, false));
        return out;
    }

    /** Whether the backward rule should produce a gradient for this input. */
    static boolean wants(Tensor t) {
        return t != null && t.requiresGrad();
    }
}
