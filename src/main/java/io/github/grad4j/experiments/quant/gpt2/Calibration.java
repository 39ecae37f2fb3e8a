package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.quant.Range;
import io.github.grad4j.experiments.quant.RangeInit;
import io.github.grad4j.tensor.Tensor;

import java.util.Locale;

/**
 * How initial ranges are chosen from observed values (weights per output channel, activations per
 * tensor over the calibration batches).
 */
public enum Calibration {
    /** The observed minimum and maximum. */
    MIN_MAX("min-max"),
    /** The 0.01st and 99.99th percentiles ({@link #PERCENT}). */
    PERCENTILE("percentile"),
    /** The shrink of [min, max] with the least squared quantization error (grid search). */
    MSE("mse");

    /** The percentile {@link #PERCENTILE} keeps at each end. */
    public static final double PERCENT = 99.99;

    private final String cliName;

    Calibration(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The range of {@code values} for {@code bits}, per tensor or along {@code channelAxis}. */
    public Range range(Tensor values, int channelAxis, int bits) {
        return switch (this) {
            case MIN_MAX -> RangeInit.minMax(values, channelAxis);
            case PERCENTILE -> RangeInit.percentile(values, channelAxis, PERCENT);
            case MSE -> RangeInit.mseOptimal(values, channelAxis, bits);
        };
    }

    /** The calibration named {@code name} (min-max, percentile, mse), or an error listing them. */
    public static Calibration parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            for (Calibration c : values()) if (c.cliName.equals(n)) return c;
        }
        throw new IllegalArgumentException("unknown calibration '" + name + "'; valid: min-max, percentile, mse");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
