package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.quant.Parameterization;

import java.util.Objects;

/**
 * How a GPT-2 is quantized: bit widths, the range parameterization of every quantizer, how ranges
 * are calibrated, whether the LSQ gradient scale multiplies the range parameters' gradients, and
 * whether the lm head (ln_f output x tied wte^T) is quantized too, besides the block layers.
 */
public record QuantSpec(BitSetting bits, Parameterization parameterization, Calibration calibration, boolean lsqGradScale,
                        boolean quantizeLmHead) {
    public QuantSpec {
        Objects.requireNonNull(bits, "bits");
        Objects.requireNonNull(parameterization, "parameterization");
        Objects.requireNonNull(calibration, "calibration");
    }

    /** min/max calibration, no LSQ scale, the lm head in full precision. */
    public static QuantSpec of(BitSetting bits, Parameterization parameterization) {
        return new QuantSpec(bits, parameterization, Calibration.MIN_MAX, false, false);
    }

    public QuantSpec withCalibration(Calibration c) {
        return new QuantSpec(bits, parameterization, c, lsqGradScale, quantizeLmHead);
    }

    /** The same spec with the lm head quantized (true) or kept in full precision (false). */
    public QuantSpec withLmHead(boolean on) {
        return new QuantSpec(bits, parameterization, calibration, lsqGradScale, on);
    }
}
