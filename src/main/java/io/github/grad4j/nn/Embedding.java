package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/** A lookup table "weight" [num, dim], initialized N(0, 1) as PyTorch's nn.Embedding. */
public class Embedding extends Layer {
    private final int numEmbeddings;
    private final int embeddingDim;

    public Embedding(int numEmbeddings, int embeddingDim, Rng rng, DType dtype) {
        Layers.requirePositive("Embedding", "numEmbeddings", numEmbeddings);
        Layers.requirePositive("Embedding", "embeddingDim", embeddingDim);
        Layers.requireFloat("Embedding", dtype);
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        registerParameter("weight", Init.normal(rng, 0, 1, dtype, numEmbeddings, embeddingDim));
    }

    /** A FLOAT32 table. */
    public Embedding(int numEmbeddings, int embeddingDim, Rng rng) {
        this(numEmbeddings, embeddingDim, rng, DType.FLOAT32);
    }

    public int numEmbeddings() {
        return numEmbeddings;
    }

    public int embeddingDim() {
        return embeddingDim;
    }

    /** ids (INT32, any shape) to ids.shape + [dim]. */
    @Override
    public Tensor forward(Tensor ids) {
        if (ids.dtype() != DType.INT32) {
            throw new IllegalArgumentException("Embedding(" + numEmbeddings + ", " + embeddingDim + "): ids must be INT32, got "
                    + ids.dtype() + " " + Shape.str(ids.shape()));
        }
        return Indexing.embedding(param("weight"), ids);
    }

    @Override
    public String toString() {
        return "Embedding(" + numEmbeddings + ", " + embeddingDim + ")";
    }
}
