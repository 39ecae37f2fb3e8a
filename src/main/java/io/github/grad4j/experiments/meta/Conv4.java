package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.BatchNorm2d;
import io.github.grad4j.nn.Conv2d;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.nn.MaxPool2d;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * The Conv-4 embedding of few-shot learning: four blocks of Conv3x3(pad 1) - BatchNorm - ReLU -
 * MaxPool2, the first reading {@code inChannels}, all with {@code filters} output channels. A
 * 28x28x1 image becomes 64x1x1 (28 -> 14 -> 7 -> 3 -> 1), i.e. a 64-d embedding.
 *
 * <p>Parameters are named "block{b}.{layer}.{name}" with layers 0 conv, 1 batch norm (e.g.
 * "block0.0.weight", "block3.1.running_mean"). Every layer reads its weights through
 * {@code param()}, so {@link #functionalCall} can substitute adapted weights (MAML).
 */
public class Conv4 extends Layer {
    /** Number of conv blocks. */
    public static final int BLOCKS = 4;

    private final int inChannels;
    private final int filters;
    private final int imageSize;
    private final Sequential[] blocks = new Sequential[BLOCKS];

    /** What {@link #features} returns: the last block's map before its pooling, and the embedding. */
    public record Features(Tensor beforeLastPool, Tensor embedding) {
    }

    /**
     * @param inChannels image channels (1 for Omniglot)
     * @param filters    channels of every block (64 in the papers)
     * @param imageSize  side length of the square input images; must survive four 2x poolings
     * @param rng        source of the initial weights
     * @param dtype      FLOAT32 to train, FLOAT64 for gradient checks
     */
    public Conv4(int inChannels, int filters, int imageSize, Rng rng, DType dtype) {
        if (inChannels < 1 || filters < 1) {
            throw new IllegalArgumentException("Conv4: inChannels and filters must be positive, got " + inChannels
                    + " and " + filters);
        }
        if (spatialSizeBeforeLastPool(imageSize) < 2) {
            throw new IllegalArgumentException("Conv4: images of " + imageSize + "x" + imageSize
                    + " are too small for four 2x2 poolings (need at least 16x16)");
        }
        this.inChannels = inChannels;
        this.filters = filters;
        this.imageSize = imageSize;
        for (int b = 0; b < BLOCKS; b++) {
            blocks[b] = registerModule("block" + b, new Sequential(
                    new Conv2d(b == 0 ? inChannels : filters, filters, 3, 1, 1, true, rng, dtype),
                    new BatchNorm2d(filters, 1e-5, 0.1, true, true, dtype),
                    new ReLU(),
                    new MaxPool2d(2)));
        }
    }

    /** Side length of the map entering the last pooling: three floor-halvings of the image size. */
    public static int spatialSizeBeforeLastPool(int imageSize) {
        return imageSize / 2 / 2 / 2;
    }

    /** Side length of the final map: four floor-halvings (1 for 28x28). */
    public static int outputSpatialSize(int imageSize) {
        return spatialSizeBeforeLastPool(imageSize) / 2;
    }

    /** Length of the flattened embedding: filters x side x side (64 for 28x28 and 64 filters). */
    public int embeddingSize() {
        int side = outputSpatialSize(imageSize);
        return filters * side * side;
    }

    public int filters() {
        return filters;
    }

    public int imageSize() {
        return imageSize;
    }

    /** x [N, inChannels, S, S] to embeddings [N, embeddingSize()]. */
    @Override
    public Tensor forward(Tensor x) {
        return features(x).embedding();
    }

    /**
     * Runs the four blocks and returns both the last block's map before its pooling
     * ([N, filters, s, s], s = 3 for 28x28; TPN's graph-construction network reads it) and the
     * flattened embedding.
     */
    public Features features(Tensor x) {
        if (x.dim() != 4 || x.size(1) != inChannels || x.size(2) != imageSize || x.size(3) != imageSize) {
            throw new IllegalArgumentException("Conv4: input " + Shape.str(x.shape()) + " should be [N, " + inChannels
                    + ", " + imageSize + ", " + imageSize + "]");
        }
        Tensor h = x;
        for (int b = 0; b < BLOCKS - 1; b++) h = blocks[b].forward(h);
        Sequential last = blocks[BLOCKS - 1];
        for (int layer = 0; layer < 3; layer++) h = last.get(layer).forward(h);
        Tensor beforePool = h;
        Tensor pooled = last.get(3).forward(h);
        return new Features(beforePool, pooled.flatten(1));
    }

    @Override
    public String toString() {
        return "Conv4(in=" + inChannels + ", filters=" + filters + ", image " + imageSize + "x" + imageSize + ")";
    }
}
