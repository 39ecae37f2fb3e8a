package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * y = x W^T + b over the last axis of x, with PyTorch's layout and names: "weight" [out, in] and
 * "bias" [out]. Initialization is PyTorch's default: W and b both U(-1/sqrt(in), 1/sqrt(in))
 * (kaiming-uniform with a = sqrt(5)), weight drawn first.
 */
public class Linear extends Layer {
    private final int inFeatures;
    private final int outFeatures;

    /**
     * @param bias  whether to add a learned bias
     * @param rng   source of the initial values
     * @param dtype FLOAT32 (the working type) or FLOAT64 (gradient checks); inputs must match it
     */
    public Linear(int inFeatures, int outFeatures, boolean bias, Rng rng, DType dtype) {
        Layers.requirePositive("Linear", "inFeatures", inFeatures);
        Layers.requirePositive("Linear", "outFeatures", outFeatures);
        Layers.requireFloat("Linear", dtype);
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        registerParameter("weight", Init.kaimingUniform(rng, Math.sqrt(5), dtype, outFeatures, inFeatures));
        if (bias) registerParameter("bias", Init.defaultBias(rng, inFeatures, dtype, outFeatures));
    }

    /** A FLOAT32 layer with a bias. */
    public Linear(int inFeatures, int outFeatures, Rng rng) {
        this(inFeatures, outFeatures, true, rng, DType.FLOAT32);
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    public boolean hasBias() {
        return namedParameters().containsKey("bias");
    }

    /** x [..., in] to [..., out]. */
    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() == 0 || x.size(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + "): input "
                    + Shape.str(x.shape()) + " should have " + inFeatures + " features in its last axis");
        }
        return Functional.linear(x, param("weight"), hasBias() ? param("bias") : null);
    }

    @Override
    public String toString() {
        return "Linear(" + inFeatures + ", " + outFeatures + ", bias=" + hasBias() + ")";
    }
}
