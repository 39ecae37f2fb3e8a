package io.github.grad4j.nn;

import io.github.grad4j.ops.Fusion;
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
     * one step ({@link BatchNorm2d#forwardRelu}), and with a 2x2 {@link MaxPool2d} after those as
     * one step too ({@link BatchNorm2d#forwardReluMaxPool2x2}): the same values and gradients
     * without full-size arrays between them. When a {@link Conv2d} with few multiply-adds per output
     * ({@link Conv2d#recomputedInBlock}) comes before those three, the four are one step
     * ({@link BatchNorm2d#forwardConvolvedReluMaxPool2x2}), the convolution recomputed instead of kept.
     */
    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            if (isA(i, Conv2d.class) && ((Conv2d) l).recomputedInBlock() && Fusion.convolutionBlocks() && isA(i + 1, BatchNorm2d.class)
                    && isA(i + 2, ReLU.class) && isTwoByTwoPool(i + 3)) {
                x = ((BatchNorm2d) layers.get(i + 1)).forwardConvolvedReluMaxPool2x2((Conv2d) l, x);
                i += 3;
            } else if (l instanceof BatchNorm2d bn && isA(i + 1, ReLU.class)) {
                if (isTwoByTwoPool(i + 2)) {
                    x = bn.forwardReluMaxPool2x2(x);
                    i += 2;
                } else {
                    x = bn.forwardRelu(x);
                    i++;
                }
            } else {
                x = l.forward(x);
            }
        }
        return x;
    }

    private boolean isTwoByTwoPool(int i) {
        return isA(i, MaxPool2d.class) && ((MaxPool2d) layers.get(i)).isTwoByTwo();
    }

    /** Whether layer i exists and is exactly of that class (a subclass may behave differently). */
    private boolean isA(int i, Class<? extends Layer> type) {
        return i < layers.size() && layers.get(i).getClass() == type;
    }

    @Override
    public String toString() {
        return "Sequential" + layers;
    }
}
