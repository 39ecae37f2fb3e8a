package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import static io.github.grad4j.ops.OpSupport.*;

/** Reductions along any set of axes, with or without keeping the reduced axes as size 1. */
public final class Reductions {
    private Reductions() {
    }

    /** The shape after reducing {@code mask}'s axes, keeping them as size 1. */
    private static int[] keptShape(int[] shape, boolean[] mask) {
        int[] out = shape.clone();
        for (int d = 0; d < shape.length; d++) if (mask[d]) out[d] = 1;
        return out;
    }

    /** The shape after reducing {@code mask}'s axes, dropping them. */
    private static int[] droppedShape(int[] shape, boolean[] mask) {
        int n = 0;
        for (boolean m : mask) if (!m) n++;
        int[] out = new int[n];
        int j = 0;
        for (int d = 0; d < shape.length; d++) if (!mask[d]) out[j++] = shape[d];
        return out;
    }

    private static Tensor reduceKernel(String op, ReduceOp kind, Tensor x, boolean[] mask, Tensor indices) {
        Tensor out = empty(x.backend(), x.dtype(), keptShape(x.shape(), mask));
        x.backend().reduce(kind, x.view(), mask, out.view(), indices == null ? null : indices.view());
        return out;
    }

    // ---------------------------------------------------------------- sum / mean

    /** Sum over {@code axes} (all axes when none are given). */
    public static Tensor sum(Tensor x, boolean keepDim, int... axes) {
        requireFloat("sum", "x", x);
        boolean[] mask = Shape.axisMask("sum", axes, x.dim());
        Tensor kept = reduceKernel("sum", ReduceOp.SUM, x, mask, null);
        kept = record(kept, "sum", x, g -> new Tensor[]{Views.expand(g, x.shape())});
        return keepDim ? kept : Views.reshape(kept, droppedShape(x.shape(), mask));
    }

    /** Mean over {@code axes} (all axes when none are given). */
    public static Tensor mean(Tensor x, boolean keepDim, int... axes) {
        boolean[] mask = Shape.axisMask("mean", axes, x.dim());
        long count = 1;
        for (int d = 0; d < mask.length; d++) if (mask[d]) count *= x.shape()[d];
        return Pointwise.div(sum(x, keepDim, axes), x.constant(count));
    }

    /**
     * Sums a gradient of a broadcast result back to {@code shape}: over leading axes the operand
     * lacked and over axes where it had size 1.
     */
    public static Tensor sumToShape(Tensor g, int[] shape) {
        int[] gs = g.shape();
        if (java.util.Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        if (lead < 0) {
            throw new IllegalArgumentException("sumToShape: gradient " + Shape.str(gs) + " has lower rank than "
                    + Shape.str(shape));
        }
        boolean[] mask = new boolean[gs.length];
        boolean any = false;
        for (int d = 0; d < gs.length; d++) {
            mask[d] = d < lead || (shape[d - lead] == 1 && gs[d] != 1);
            any |= mask[d];
        }
        Tensor r = g;
        if (any) {
            int n = 0;
            for (boolean m : mask) if (m) n++;
            int[] axes = new int[n];
            int j = 0;
            for (int d = 0; d < gs.length; d++) if (mask[d]) axes[j++] = d;
            r = sum(g, true, axes);
        }
        return Views.reshape(r, shape);
    }

    // ---------------------------------------------------------------- max / min

    /** Maximum along one axis; the gradient flows to the first position holding the maximum. */
    public static Tensor max(Tensor x, int axis, boolean keepDim) {
        return extreme("max", ReduceOp.MAX, x, axis, keepDim);
    }

    public static Tensor min(Tensor x, int axis, boolean keepDim) {
        return extreme("min", ReduceOp.MIN, x, axis, keepDim);
    }

    /** Maximum over all elements (a scalar). */
    public static Tensor maxAll(Tensor x) {
        return max(Views.reshape(x, x.numel()), 0, false);
    }

    public static Tensor minAll(Tensor x) {
        return min(Views.reshape(x, x.numel()), 0, false);
    }

    /** Position (INT32) of the maximum along an axis. */
    public static Tensor argmax(Tensor x, int axis, boolean keepDim) {
        return extremeIndices("argmax", ReduceOp.MAX, x, axis, keepDim);
    }

    public static Tensor argmin(Tensor x, int axis, boolean keepDim) {
        return extremeIndices("argmin", ReduceOp.MIN, x, axis, keepDim);
    }

    private static Tensor extreme(String op, ReduceOp kind, Tensor x, int axis, boolean keepDim) {
        requireFloat(op, "x", x);
        int a = Shape.axis(op, axis, x.dim());
        if (x.size(a) == 0) throw new IllegalArgumentException(op + ": axis " + axis + " of " + Shape.str(x.shape()) + " is empty");
        boolean[] mask = new boolean[x.dim()];
        mask[a] = true;
        Tensor idx = empty(x.backend(), DType.INT32, keptShape(x.shape(), mask));
        Tensor kept = reduceKernel(op, kind, x, mask, idx);
        kept = record(kept, op, x, g -> new Tensor[]{Indexing.scatterAddIntoZeros(x.shape(), a, idx, g)});
        return keepDim ? kept : Views.reshape(kept, droppedShape(x.shape(), mask));
    }

    private static Tensor extremeIndices(String op, ReduceOp kind, Tensor x, int axis, boolean keepDim) {
        requireFloat(op, "x", x);
        int a = Shape.axis(op, axis, x.dim());
        boolean[] mask = new boolean[x.dim()];
        mask[a] = true;
        Tensor idx = empty(x.backend(), DType.INT32, keptShape(x.shape(), mask));
        reduceKernel(op, kind, x, mask, idx);
        return keepDim ? idx : Views.reshape(idx, droppedShape(x.shape(), mask));
    }

    // ---------------------------------------------------------------- composite

    /** Variance over axes; unbiased divides by n-1 (Bessel), biased by n. */
    public static Tensor var(Tensor x, boolean unbiased, boolean keepDim, int... axes) {
        boolean[] mask = Shape.axisMask("var", axes, x.dim());
        long count = 1;
        for (int d = 0; d < mask.length; d++) if (mask[d]) count *= x.shape()[d];
        Tensor centered = Pointwise.sub(x, mean(x, true, axes));
        Tensor ss = sum(Pointwise.mul(centered, centered), keepDim, axes);
        return Pointwise.div(ss, x.constant(unbiased ? count - 1 : count));
    }

    /** log(sum(exp(x))) along an axis, computed stably by shifting by the (constant) maximum. */
    public static Tensor logsumexp(Tensor x, int axis, boolean keepDim) {
        Tensor shift;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor m = max(x.detach(), axis, true);
            // an all -inf slice would give -inf - -inf = NaN; shifting by 0 there is exact
            shift = Pointwise.where(Pointwise.eq(Pointwise.abs(m), m.constant(Double.POSITIVE_INFINITY)),
                    m.constant(0), m);
        }
        Tensor s = sum(Pointwise.exp(Pointwise.sub(x, shift)), true, axis);
        Tensor out = Pointwise.add(Pointwise.log(s), shift);
        return keepDim ? out : Views.squeeze(out, axis);
    }
}
