package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Tensor;

/** LayerNorm over the last axis with weight (ones) and bias (zeros), HF names "weight" and "bias". */
final class Gpt2LayerNorm extends Layer {
    private final int width;
    private final double eps;

    Gpt2LayerNorm(int width, double eps, DType dtype) {
        this.width = width;
        this.eps = eps;
        registerParameter("weight", Init.ones(dtype, width));
        registerParameter("bias", Init.zeros(dtype, width));
    }

    @Override
    public Tensor forward(Tensor x) {
        return Functional.layerNorm(x, new int[]{width}, param("weight"), param("bias"), eps);
    }
}
