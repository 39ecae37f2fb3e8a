package io.github.grad4j.nn;

import io.github.grad4j.tensor.Tensor;

/** max(x, 0) elementwise. */
public class ReLU extends Layer {
    @Override
    public Tensor forward(Tensor x) {
        return x.relu();
    }

    @Override
    public String toString() {
        return "ReLU()";
    }
}
