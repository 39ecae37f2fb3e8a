package io.github.grad4j.experiments.quant;

import io.github.grad4j.tensor.Tensor;

/**
 * Learns the scale s and a real-valued offset z (LSQ+ style); R = round(z). Per region:
 * d x_hat/ds = r inside (r = round(x/s) - x/s), -R below, N - R above; d x_hat/dz = 0 inside, -s
 * outside (STE zero point) or 0 (plain rounding).
 */
public final class ScaleOffsetQuantizer extends Quantizer {

    /** Starts from the given scale and offset (copied), shaped like the parameters. */
    public ScaleOffsetQuantizer(QuantConfig config, Tensor scale, Tensor offset) {
        super(config, scale.shape());
        registerParameter("scale", copy(scale));
        registerParameter("offset", copy(offset));
    }

    /** s = (max - min)/N, z = -min/s. */
    public static ScaleOffsetQuantizer fromRange(QuantConfig config, Range range) {
        Tensor s = range.max().detach().sub(range.min().detach()).div(config.levels());
        Tensor z = range.min().detach().neg().div(s);
        return new ScaleOffsetQuantizer(config, s, z);
    }

    @Override
    public Parameterization parameterization() {
        return Parameterization.SCALE_OFFSET;
    }

    @Override
    protected Grid grid(double paramGradScale) {
        Tensor s = rangeParam("scale", paramGradScale);
        Tensor z = rangeParam("offset", paramGradScale);
        return new Grid(s, FakeQuant.roundZeroPoint(z, config().zeroPointRounding()));
    }
}
