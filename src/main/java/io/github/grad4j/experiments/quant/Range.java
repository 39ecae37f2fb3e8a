package io.github.grad4j.experiments.quant;

import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

/**
 * A quantization range [min, max]: scalars (shape []) per tensor, or tensors shaped to broadcast
 * against the input along the channel axis (e.g. [C, 1] for weights [C, K] with axis 0).
 */
public record Range(Tensor min, Tensor max) {
    /** Checks that min and max have the same shape. */
    public Range {
        if (!Arrays.equals(min.shape(), max.shape())) {
            throw new IllegalArgumentException("range: min " + Shape.str(min.shape()) + " and max "
                    + Shape.str(max.shape()) + " differ in shape");
        }
    }

    /** The minimum of every channel, in row-major order. */
    public double[] minValues() {
        return min.toDoubleArray();
    }

    /** The maximum of every channel, in row-major order. */
    public double[] maxValues() {
        return max.toDoubleArray();
    }

    @Override
    public String toString() {
        return "Range(min=" + Arrays.toString(minValues()) + ", max=" + Arrays.toString(maxValues()) + ")";
    }
}
