package io.github.grad4j.experiments.quant;

/**
 * Learns theta_min and theta_max; s = (theta_max - theta_min)/N, z = -theta_min/s (AIMET v2's
 * MinMaxQuantizer). A step moves the range in the units of x, independently of the bit width.
 */
public final class MinMaxQuantizer extends Quantizer {

    /** Starts from the given range (copied). */
    public MinMaxQuantizer(QuantConfig config, Range range) {
        super(config, range.min().shape());
        registerParameter("thetaMin", copy(range.min()));
        registerParameter("thetaMax", copy(range.max()));
    }

    @Override
    public Parameterization parameterization() {
        return Parameterization.MIN_MAX;
    }

    @Override
    protected Grid grid(double paramGradScale) {
        return gridFromRange(rangeParam("thetaMin", paramGradScale), rangeParam("thetaMax", paramGradScale));
    }
}
