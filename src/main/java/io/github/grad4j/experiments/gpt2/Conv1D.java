package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/**
 * GPT-2's "Conv1D", which is an affine map with the weight stored [in, out] (the transpose of
 * nn.Linear): y = x W + b. Kept in that layout so checkpoints load without transposing.
 */
public final class Conv1D extends Layer {
    private final int in;
    private final int out;

    /** Weight N(0, std) from {@code rng} (zeros when rng is null), bias zeros. */
    public Conv1D(int in, int out, double std, Rng rng, DType dtype) {
        this.in = in;
        this.out = out;
        registerParameter("weight", Init.normal(rng, std, dtype, in, out));
        registerParameter("bias", Init.zeros(dtype, out));
    }

    /** x [..., in] to [..., out]. */
    @Override
    public Tensor forward(Tensor x) {
        int[] shape = x.shape();
        if (shape.length == 0 || shape[shape.length - 1] != in) {
            throw new IllegalArgumentException("Conv1D [" + in + " -> " + out + "]: input " + java.util.Arrays.toString(shape)
                    + " must end in " + in);
        }
        // one 2-D product instead of a broadcast batched one: the weight gradient needs no reduction over a batch axis
        Tensor y = x.reshape(-1, in).matmul(param("weight")).add(param("bias"));
        shape[shape.length - 1] = out;
        return y.reshape(shape);
    }
}
