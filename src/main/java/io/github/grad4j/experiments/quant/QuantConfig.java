package io.github.grad4j.experiments.quant;

/**
 * What every quantizer shares, independent of the parameterization: bit width, granularity, zero-point
 * rounding and whether the LSQ gradient scale is applied.
 *
 * @param bits              bit width b in [2, 16]; N = 2^b - 1 levels above zero
 * @param channelAxis       axis of the input along which each channel has its own range, or
 *                          {@link #PER_TENSOR}; may be negative (counted from the end)
 * @param zeroPointRounding how round(z) is differentiated
 * @param lsqGradScale      multiply the range parameters' gradients by g = 1/sqrt(numel * N), with
 *                          numel per channel when per channel (Esser et al.; lr-qat applies it to s and z)
 */
public record QuantConfig(int bits, int channelAxis, ZeroPointRounding zeroPointRounding, boolean lsqGradScale) {

    /** Marker for {@link #channelAxis}: one range for the whole tensor. */
    public static final int PER_TENSOR = Integer.MIN_VALUE;
    /** The supported bit widths, 2..16 as the project specifies (1 bit leaves N = 1: a two-level grid, not worth an asymmetric range). */
    public static final int MIN_BITS = 2;
    public static final int MAX_BITS = 16;

    /** Validates bits (named in the error) and the rounding. */
    public QuantConfig {
        if (bits < MIN_BITS || bits > MAX_BITS) {
            throw new IllegalArgumentException("bits = " + bits + " is out of range [" + MIN_BITS + ", " + MAX_BITS + "]");
        }
        if (zeroPointRounding == null) throw new IllegalArgumentException("zeroPointRounding must not be null");
    }

    /** Per-tensor range, STE zero point, no gradient scale. */
    public static QuantConfig perTensor(int bits) {
        return new QuantConfig(bits, PER_TENSOR, ZeroPointRounding.STE, false);
    }

    /** One range per index of {@code axis}, STE zero point, no gradient scale. */
    public static QuantConfig perChannel(int bits, int axis) {
        if (axis == PER_TENSOR) throw new IllegalArgumentException("channelAxis = " + axis + " is not an axis");
        return new QuantConfig(bits, axis, ZeroPointRounding.STE, false);
    }

    /** The same config with another zero-point rounding. */
    public QuantConfig withZeroPointRounding(ZeroPointRounding rounding) {
        return new QuantConfig(bits, channelAxis, rounding, lsqGradScale);
    }

    /** The same config with the LSQ gradient scale on or off. */
    public QuantConfig withLsqGradScale(boolean on) {
        return new QuantConfig(bits, channelAxis, zeroPointRounding, on);
    }

    /** Whether each channel has its own range. */
    public boolean isPerChannel() {
        return channelAxis != PER_TENSOR;
    }

    /** N = 2^b - 1, the largest integer level. */
    public int levels() {
        return (1 << bits) - 1;
    }

    /** The channel axis normalized against an input's rank, or an error naming the argument and value. */
    public int resolveAxis(int rank) {
        int a = channelAxis < 0 ? channelAxis + rank : channelAxis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException("channelAxis = " + channelAxis + " is out of range for an input of rank "
                    + rank);
        }
        return a;
    }

    /** "b4 per-tensor" or "b4 per-channel(axis 0)". */
    public String describe() {
        return "b" + bits + (isPerChannel() ? " per-channel(axis " + channelAxis + ")" : " per-tensor")
                + ", zero point " + zeroPointRounding + (lsqGradScale ? ", LSQ grad scale" : "");
    }
}
