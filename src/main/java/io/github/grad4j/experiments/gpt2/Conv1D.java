package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.function.UnaryOperator;

/**
 * GPT-2's "Conv1D", which is an affine map with the weight stored [in, out] (the transpose of
 * nn.Linear): y = x W + b. Kept in that layout so checkpoints load without transposing.
 */
public final class Conv1D extends Layer {
    private final int in;
    private final int out;
    private UnaryOperator<Tensor> inputTransform;
    private UnaryOperator<Tensor> weightTransform;

    /** Weight N(0, std) from {@code rng} (zeros when rng is null), bias zeros. */
    public Conv1D(int in, int out, double std, Rng rng, DType dtype) {
        this.in = in;
        this.out = out;
        registerParameter("weight", Init.normal(rng, std, dtype, in, out));
        registerParameter("bias", Init.zeros(dtype, out));
    }

    /** Input width (rows of the weight). */
    public int inFeatures() {
        return in;
    }

    /** Output width (columns of the weight). */
    public int outFeatures() {
        return out;
    }

    /**
     * Hooks for experiments that change how the layer computes without changing its parameters
     * (fake quantization, learned rescaling): y = f(x) g(W) + b. {@code input} maps the input
     * [..., in] to the same shape; {@code weight} maps the weight [in, out] (as read through
     * {@code param}, so functional calls still substitute it) to the same shape. Null removes a hook.
     */
    public void setTransforms(UnaryOperator<Tensor> input, UnaryOperator<Tensor> weight) {
        this.inputTransform = input;
        this.weightTransform = weight;
    }

    /** Whether an input or weight transform is installed. */
    public boolean hasTransforms() {
        return inputTransform != null || weightTransform != null;
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
        Tensor input = inputTransform == null ? x : inputTransform.apply(x);
        Tensor weight = weightTransform == null ? param("weight") : weightTransform.apply(param("weight"));
        Tensor y = input.reshape(-1, in).matmul(weight).add(param("bias"));
        shape[shape.length - 1] = out;
        return y.reshape(shape);
    }
}
