package io.github.grad4j.nn;

import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/** Merges the axes from {@code startAxis} to the end into one, as PyTorch's nn.Flatten (default start 1). */
public class Flatten extends Layer {
    private final int startAxis;

    public Flatten(int startAxis) {
        this.startAxis = startAxis;
    }

    /** Keeps the batch axis: [N, ...] to [N, rest]. */
    public Flatten() {
        this(1);
    }

    @Override
    public Tensor forward(Tensor x) {
        Shape.axis("Flatten", startAxis, x.dim());
        return x.flatten(startAxis);
    }

    @Override
    public String toString() {
        return "Flatten(" + startAxis + ")";
    }
}
