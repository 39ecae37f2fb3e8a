package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

/**
 * Layer normalization over the trailing axes {@code normalizedShape} (biased variance), with an
 * optional elementwise affine "weight" (ones) and "bias" (zeros), as PyTorch's nn.LayerNorm.
 */
public class LayerNorm extends Layer {
    private final int[] normalizedShape;
    private final double eps;
    private final boolean affine;

    public LayerNorm(int[] normalizedShape, double eps, boolean affine, DType dtype) {
        if (normalizedShape.length == 0) throw new IllegalArgumentException("LayerNorm: normalizedShape is empty");
        for (int s : normalizedShape) Layers.requirePositive("LayerNorm", "normalizedShape entry", s);
        if (!(eps >= 0)) throw new IllegalArgumentException("LayerNorm: eps must be >= 0, got " + eps);
        Layers.requireFloat("LayerNorm", dtype);
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.affine = affine;
        if (affine) {
            registerParameter("weight", Init.ones(dtype, normalizedShape));
            registerParameter("bias", Init.zeros(dtype, normalizedShape));
        }
    }

    /** FLOAT32 normalization over a last axis of size {@code dim}, eps 1e-5, affine (PyTorch defaults). */
    public LayerNorm(int dim) {
        this(new int[]{dim}, 1e-5, true, DType.FLOAT32);
    }

    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    @Override
    public Tensor forward(Tensor x) {
        int k = normalizedShape.length;
        if (x.dim() < k || !Arrays.equals(Arrays.copyOfRange(x.shape(), x.dim() - k, x.dim()), normalizedShape)) {
            throw new IllegalArgumentException("LayerNorm" + Shape.str(normalizedShape) + ": input " + Shape.str(x.shape())
                    + " does not end with the normalized shape");
        }
        return Functional.layerNorm(x, normalizedShape, affine ? param("weight") : null, affine ? param("bias") : null, eps);
    }

    @Override
    public String toString() {
        return "LayerNorm(" + Shape.str(normalizedShape) + ", eps=" + eps + ", affine=" + affine + ")";
    }
}
