package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** Parameter initial values; a null generator gives zeros (for models about to be overwritten by a checkpoint). */
final class Init {
    private Init() {
    }

    /** GPT-2's standard deviation for weights and embeddings. */
    static final double STD = 0.02;

    static Tensor normal(Rng rng, double std, DType dtype, int... shape) {
        return rng == null ? Tensor.zeros(dtype, shape) : Tensor.randn(rng, std, dtype, shape);
    }

    static Tensor zeros(DType dtype, int... shape) {
        return Tensor.zeros(dtype, shape);
    }

    static Tensor ones(DType dtype, int... shape) {
        return Tensor.ones(dtype, shape);
    }
}
