package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.quant.Parameterization;

import java.util.Objects;

/**
 * How a GPT-2 is quantized: bit widths, the range parameterization of every quantizer, how ranges
 * are calibrated, and whether the LSQ gradient scale multiplies the range parameters' gradients.
 */
public record QuantSpec(BitSetting bits, Parameterization parameterization, Calibration calibration, boolean lsqGradScale) {
    public QuantSpec {
        Objects.requireNonNull(bits, "bits");
        Objects.requireNonNull(parameterization, "parameterization");
        Objects.requireNonNull(calibration, "calibration");
    }

    /** min/max calibration, no LSQ scale. */
    public static QuantSpec of(BitSetting bits, Parameterization parameterization) {
        return new QuantSpec(bits, parameterization, Calibration.MIN_MAX, false);
    }

    public QuantSpec withCalibration(Calibration c) {
        return new QuantSpec(bits, parameterization, c, lsqGradScale);
    }
}
