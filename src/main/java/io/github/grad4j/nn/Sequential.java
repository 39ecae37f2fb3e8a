package io.github.grad4j.nn;

import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Layers applied in order; children are named "0", "1", ... as in PyTorch, so names like "2.weight" match. */
public class Sequential extends Layer {
    private final List<Layer> layers = new ArrayList<>();

    public Sequential(Layer... layers) {
        for (Layer l : layers) add(l);
    }

    /** Appends a layer under the next index name. */
    public Sequential add(Layer layer) {
        if (layer == null) throw new IllegalArgumentException("Sequential: layer " + layers.size() + " is null");
        registerModule(Integer.toString(layers.size()), layer);
        layers.add(layer);
        return this;
    }

    public Layer get(int index) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("Sequential: index " + index + " outside [0, " + layers.size() + ")");
        }
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    /**
     * Applies the layers in order. A {@link BatchNorm2d} directly followed by a {@link ReLU} runs as
     * one step ({@link BatchNorm2d#forwardRelu}): the same values and gradients without the
     * normalized activations and ReLU's gradient as arrays of their own.
     */
    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (l instanceof BatchNorm2d bn && i + 1 < layers.size() && layers.get(i + 1).getClass() == ReLU.class) {
                x = bn.forwardRelu(x);
                i++;
            } else {
                x = l.forward(x);
            }
        }
        return x;
    }

    @Override
    public String toString() {
        return "Sequential" + layers;
    }
}
