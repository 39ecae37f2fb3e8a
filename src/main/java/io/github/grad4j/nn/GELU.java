package io.github.grad4j.nn;

import io.github.grad4j.tensor.Tensor;

/**
 * GELU with the tanh approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), which is
 * GPT-2's and PyTorch's {@code nn.GELU(approximate="tanh")} (not the exact erf form, PyTorch's default).
 */
public class GELU extends Layer {
    @Override
    public Tensor forward(Tensor x) {
        return x.gelu();
    }

    @Override
    public String toString() {
        return "GELU(approximate=tanh)";
    }
}
