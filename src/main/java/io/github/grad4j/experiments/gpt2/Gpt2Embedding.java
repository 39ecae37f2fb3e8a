package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Module;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** A lookup table [rows, width] with HF's parameter name "weight" (wte and wpe). */
final class Gpt2Embedding extends Module {
    Gpt2Embedding(int rows, int width, Rng rng, DType dtype) {
        registerParameter("weight", Init.normal(rng, Init.STD, dtype, rows, width));
    }

    Tensor weight() {
        return param("weight");
    }

    /** ids of any shape (INT32, already range-checked) to ids.shape + [width]. */
    Tensor lookup(Tensor ids) {
        return Indexing.embedding(param("weight"), ids);
    }
}
