package io.github.grad4j.ops;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

import static io.github.grad4j.ops.OpSupport.*;

/** Matrix products and linear solves, batched with broadcasting over leading axes. */
public final class LinearAlgebra {
    private LinearAlgebra() {
    }

    /**
     * Matrix product with numpy/PyTorch semantics: rank-1 operands are treated as a row (left) or
     * column (right) vector and that axis is removed from the result; leading axes broadcast.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        if (a.dim() == 0 || b.dim() == 0) {
            throw new IllegalArgumentException("matmul: operands must have rank >= 1, got " + Shape.str(a.shape())
                    + " and " + Shape.str(b.shape()));
        }
        if (a.dim() == 1 && b.dim() == 1) {
            return Views.reshape(matmul(Views.unsqueeze(a, 0), Views.unsqueeze(b, 1)));
        }
        if (a.dim() == 1) return Views.squeeze(matmul(Views.unsqueeze(a, 0), b), -2);
        if (b.dim() == 1) return Views.squeeze(matmul(a, Views.unsqueeze(b, 1)), -1);
        return batchedMatmul(a, b);
    }

    private static Tensor batchedMatmul(Tensor a, Tensor b) {
        Backend backend = backendOf("matmul", a, b);
        DType dtype = sameFloat("matmul", a, b);
        int[] as = a.shape(), bs = b.shape();
        int m = as[as.length - 2], k = as[as.length - 1], k2 = bs[bs.length - 2], n = bs[bs.length - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shape.str(as) + " @ " + Shape.str(bs)
                    + " (" + k + " vs " + k2 + ")");
        }
        int[] batch = Shape.broadcast("matmul", Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        int[] aShape = Shape.concat(batch, new int[]{m, k});
        int[] bShape = Shape.concat(batch, new int[]{k, n});
        int[] outShape = Shape.concat(batch, new int[]{m, n});
        Tensor out = empty(backend, dtype, outShape);
        backend.matmul(broadcastView(a, aShape), broadcastView(b, bShape), out.view());
        // Each gradient is produced in its operand's layout: for a transposed view such as GPT-2's
        // tied output layer x wte^T, the gradient (a^T g) is computed as (g^T a)^T, whose transpose
        // back to wte's layout is then contiguous. Otherwise it would be a transposed view, and
        // adding it to the embedding's gradient or copying it into .grad would walk 38.6M floats
        // with a stride of 50257 (~0.4 s of a 124M training step).
        return record(out, "matmul", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? Reductions.sumToShape(transposedLayout(a) ? matmul(b, g.mT()).mT() : matmul(g, b.mT()), a.shape()) : null,
                wants(b) ? Reductions.sumToShape(transposedLayout(b) ? matmul(g.mT(), a).mT() : matmul(a.mT(), g), b.shape()) : null});
    }

    /** Whether the last two axes are laid out column-major (the transpose of a row-major matrix). */
    private static boolean transposedLayout(Tensor t) {
        int r = t.dim();
        int[] st = t.strides(), sh = t.shape();
        return sh[r - 1] > 1 && sh[r - 2] > 1 && st[r - 2] == 1 && st[r - 1] != 1;
    }

    /**
     * Solves a x = b for x, batched: a [..., n, n], b [..., n, k] (or vectors [n] or [..., n], the
     * latter only when b's shape is a's without the last axis). The gradient:
     * with x = a^-1 b, db = a^-T g and da = -db x^T (TPN's label propagation needs both).
     */
    public static Tensor solve(Tensor a, Tensor b) {
        if (isVectorRightHandSide(a, b)) return Views.squeeze(solve(a, Views.unsqueeze(b, -1)), -1);
        Backend backend = backendOf("solve", a, b);
        DType dtype = sameFloat("solve", a, b);
        int[] as = a.shape(), bs = b.shape();
        if (a.dim() < 2 || as[as.length - 1] != as[as.length - 2]) {
            throw new IllegalArgumentException("solve: 'a' must be square matrices [..., n, n], got " + Shape.str(as));
        }
        int n = as[as.length - 1];
        if (b.dim() < 2 || bs[bs.length - 2] != n) {
            throw new IllegalArgumentException("solve: 'b' must be [..., " + n + ", k] for a of shape " + Shape.str(as)
                    + ", got " + Shape.str(bs));
        }
        int k = bs[bs.length - 1];
        int[] batch = Shape.broadcast("solve", Arrays.copyOf(as, as.length - 2), Arrays.copyOf(bs, bs.length - 2));
        int[] aShape = Shape.concat(batch, new int[]{n, n});
        int[] bShape = Shape.concat(batch, new int[]{n, k});
        Tensor out = empty(backend, dtype, bShape);
        backend.solve(broadcastView(a, aShape), broadcastView(b, bShape), out.view());
        return record(out, "solve", new Tensor[]{a, b}, g -> {
            Tensor gb = solve(a.mT(), g);
            return new Tensor[]{
                    wants(a) ? Reductions.sumToShape(Pointwise.neg(matmul(gb, out.mT())), a.shape()) : null,
                    wants(b) ? Reductions.sumToShape(gb, b.shape()) : null};
        });
    }

    /**
     * Whether b holds vectors rather than matrices (PyTorch's rule): b is rank 1, or b's shape is
     * a's without the last axis. A rank-(r-1) b of another shape is a matrix right-hand side whose
     * batch broadcasts (for example a [2, n, n] with b [n, k], which inverse relies on).
     */
    private static boolean isVectorRightHandSide(Tensor a, Tensor b) {
        if (b.dim() == 1) return a.dim() >= 2;
        return a.dim() >= 2 && b.dim() == a.dim() - 1
                && Arrays.equals(b.shape(), Arrays.copyOf(a.shape(), a.dim() - 1));
    }

    /** Inverse of square matrices [..., n, n], as solve(a, I). */
    public static Tensor inverse(Tensor a) {
        if (a.dim() < 2) throw new IllegalArgumentException("inverse: expected [..., n, n], got " + Shape.str(a.shape()));
        int n = a.size(-1);
        Tensor eye = Tensor.eye(n, a.dtype()).to(a.backend());
        return solve(a, eye);
    }
}
