package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** The model-wide dropout rate and the one generator all dropout masks are drawn from (so runs are reproducible). */
final class Dropout {
    private final double rate;
    private Rng rng;

    Dropout(double rate, Rng rng) {
        this.rate = rate;
        this.rng = rng;
    }

    void setRng(Rng rng) {
        this.rng = rng;
    }

    double rate() {
        return rate;
    }

    /** Identity in eval mode or at rate 0. */
    Tensor apply(Tensor x, boolean training) {
        if (!training || rate == 0) return x;
        return Functional.dropout(x, rate, true, rng);
    }
}
