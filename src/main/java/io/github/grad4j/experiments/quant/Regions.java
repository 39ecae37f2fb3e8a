package io.github.grad4j.experiments.quant;

import io.github.grad4j.tensor.Tensor;

/**
 * Which elements of an input fall below, inside or above the quantization range, as 0/1 masks of
 * the input's shape and dtype (no graph). Exactly one mask is 1 at each element.
 */
public record Regions(Tensor below, Tensor inside, Tensor above) {

    /** The masks from the unclamped grid index (see {@link FakeQuant#gridIndex}). */
    public static Regions fromGridIndex(Tensor index, int levels) {
        Tensor below = index.lt(0);
        Tensor above = index.gt(levels);
        Tensor inside = below.add(above).neg().add(1);
        return new Regions(below, inside, above);
    }

    /** Number of elements in each region: {below, inside, above}. */
    public long[] counts() {
        return new long[]{Math.round(below.sum().item()), Math.round(inside.sum().item()), Math.round(above.sum().item())};
    }
}
