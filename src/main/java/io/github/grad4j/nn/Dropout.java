package io.github.grad4j.nn;

import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/**
 * Zeroes each element with probability p in training and scales the survivors by 1/(1-p);
 * the identity in evaluation. The mask is drawn from the layer's own {@link Rng} (one draw per
 * element), so a checkpoint that restores that generator resumes the same masks.
 */
public class Dropout extends Layer {
    private final double p;
    private final Rng rng;

    public Dropout(double p, Rng rng) {
        if (!(p >= 0 && p < 1)) throw new IllegalArgumentException("Dropout: p = " + p + " is outside [0, 1)");
        this.p = p;
        this.rng = rng;
    }

    public double p() {
        return p;
    }

    /** The generator the masks are drawn from (to save and restore it with a checkpoint). */
    public Rng rng() {
        return rng;
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.dropout(x, p, isTraining(), rng);
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
