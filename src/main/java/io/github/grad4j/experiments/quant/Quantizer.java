package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.nn.Module;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

/**
 * An asymmetric fake quantizer x_hat = s * (clamp(round(x/s) + R, 0, N) - R), R = round(z),
 * N = 2^b - 1, with the straight-through estimator for round(x/s). Subclasses differ only in the
 * learned parameters from which s and R are computed (see {@link Parameterization}); the
 * parameters are this module's parameters, shaped [] per tensor or to broadcast along the channel
 * axis per channel.
 *
 * <p>The effective range, where outputs actually lie, is theta_min = -s*R, theta_max = s*(N - R);
 * for min/max it can differ from the learned theta_min/theta_max by the rounding of the zero point.
 * Conversions between parameterizations go through the effective range, so they keep the forward
 * output (up to floating-point rounding of the recomputed scale).
 */
public abstract class Quantizer extends Module {
    private final QuantConfig config;
    private final int[] paramShape;

    /** The scale s and the integer-valued zero point R, differentiable in the range parameters. */
    protected record Grid(Tensor scale, Tensor zeroPoint) {
    }

    protected Quantizer(QuantConfig config, int[] paramShape) {
        this.config = config;
        this.paramShape = paramShape.clone();
        if (config.isPerChannel()) {
            int a = config.resolveAxis(paramShape.length);
            for (int d = 0; d < paramShape.length; d++) {
                if (d != a && paramShape[d] != 1) {
                    throw new IllegalArgumentException("per-channel parameters along axis " + a + " must have size 1 on "
                            + "every other axis, got shape " + Shape.str(paramShape));
                }
            }
        } else if (paramShape.length != 0) {
            throw new IllegalArgumentException("per-tensor parameters must be scalars (shape []), got shape "
                    + Shape.str(paramShape));
        }
    }

    /** Bit width, granularity, zero-point rounding, LSQ flag. */
    public QuantConfig config() {
        return config;
    }

    /** Which parameterization this quantizer learns. */
    public abstract Parameterization parameterization();

    /** Shape of every range parameter. */
    public int[] paramShape() {
        return paramShape.clone();
    }

    /**
     * s and R from the parameters, each parameter's gradient multiplied by {@code paramGradScale}
     * (the LSQ factor, or 1).
     */
    protected abstract Grid grid(double paramGradScale);

    /** Called with every input before {@link #grid}: beta/gamma reads the data's extremes here. */
    protected void observe(Tensor x) {
    }

    /** The fake-quantized input (same shape), differentiable in x and the range parameters. */
    public Tensor forward(Tensor x) {
        checkInput(x);
        observe(x);
        Grid g = grid(lsqFactor(x));
        return FakeQuant.fakeQuantize(x, g.scale(), g.zeroPoint(), config.levels());
    }

    /** Which elements of x the forward clips below, keeps inside, clips above. */
    public Regions regions(Tensor x) {
        checkInput(x);
        observe(x);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Grid g = grid(1.0);
            return Regions.fromGridIndex(FakeQuant.gridIndex(x, g.scale(), g.zeroPoint()), config.levels());
        }
    }

    /**
     * The range the outputs lie in: theta_min = -s*R, theta_max = s*(N - R) (detached). For
     * beta/gamma, relative to the data of the last forward.
     */
    public Range effectiveRange() {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Grid g = grid(1.0);
            Tensor s = g.scale().detach(), r = g.zeroPoint().detach();
            return new Range(s.mul(r).neg(), s.mul(r.neg().add(config.levels())));
        }
    }

    /** The current scale s (detached). */
    public Tensor scale() {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return grid(1.0).scale().detach();
        }
    }

    /**
     * The LSQ gradient scale g = 1/sqrt(numel * N) for input x (numel per channel when per channel),
     * or 1 when the config does not ask for it.
     */
    public double lsqFactor(Tensor x) {
        if (!config.lsqGradScale()) return 1.0;
        int channels = config.isPerChannel() ? x.size(config.resolveAxis(x.dim())) : 1;
        double perChannel = (double) x.numel() / channels;
        return 1.0 / Math.sqrt(perChannel * config.levels());
    }

    /** A parameter, with its gradient scaled by {@code factor}. */
    protected Tensor rangeParam(String name, double factor) {
        return FakeQuant.gradScale(param(name), factor);
    }

    // ---------------------------------------------------------------- conversions

    /** The min/max quantizer with this one's effective range (same config). */
    public MinMaxQuantizer toMinMax() {
        return new MinMaxQuantizer(config, effectiveRange());
    }

    /** The scale/offset quantizer with this one's s and the integer zero point R (same config). */
    public ScaleOffsetQuantizer toScaleOffset() {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Grid g = grid(1.0);
            return new ScaleOffsetQuantizer(config, copy(g.scale()), copy(g.zeroPoint()));
        }
    }

    /** The sigmoid-free beta/gamma quantizer that gives this one's effective range on data with these extremes. */
    public BetaGammaQuantizer toBetaGamma(Tensor dataMin, Tensor dataMax) {
        return toBetaGamma(dataMin, dataMax, false);
    }

    /**
     * The beta/gamma quantizer (with or without sigmoid) that gives this one's effective range on data
     * whose (per-channel) extremes are {@code dataMin}, {@code dataMax}, shaped like the parameters.
     */
    public BetaGammaQuantizer toBetaGamma(Tensor dataMin, Tensor dataMax, boolean sigmoid) {
        QuantConfig c = config;
        return BetaGammaQuantizer.fromRange(c, effectiveRange(), new Range(dataMin, dataMax), sigmoid);
    }

    // ---------------------------------------------------------------- helpers

    /** s = (theta_max - theta_min)/N and R = round(-theta_min/s), as min/max and beta/gamma compute them. */
    protected Grid gridFromRange(Tensor thetaMin, Tensor thetaMax) {
        Tensor s = thetaMax.sub(thetaMin).div(config.levels());
        Tensor z = thetaMin.neg().div(s);
        return new Grid(s, FakeQuant.roundZeroPoint(z, config.zeroPointRounding()));
    }

    /** A new, detached tensor with the same values (parameters must not share storage with their source). */
    static Tensor copy(Tensor t) {
        return new Tensor(t.backend().upload(t.toDoubleArray(), t.dtype()), t.shape());
    }

    private void checkInput(Tensor x) {
        if (!config.isPerChannel()) return;
        int a = config.resolveAxis(x.dim());
        if (x.dim() != paramShape.length) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input of shape " + Shape.str(x.shape())
                    + " has rank " + x.dim() + " but the per-channel parameters have shape " + Shape.str(paramShape));
        }
        if (x.size(a) != paramShape[a]) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input of shape " + Shape.str(x.shape())
                    + " has " + x.size(a) + " channels along channelAxis = " + config.channelAxis() + ", the quantizer has "
                    + paramShape[a]);
        }
    }

    @Override
    public String toString() {
        return parameterization() + " quantizer (" + config.describe() + "), params shape " + Arrays.toString(paramShape);
    }
}
