package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Tensor;

/**
 * theta_min = f(beta) * min(x), theta_max = f(gamma) * max(x), with min(x), max(x) the extremes of
 * the current input (per channel when per channel), detached; f is the identity (sigmoid-free, the
 * paper's recommendation) or the sigmoid (OmniQuant's original, where beta and gamma are logits
 * initialised to 4). d/dgamma = f'(gamma) max(x) d/dtheta_max: the step is scaled per channel by
 * the data's own magnitude.
 */
public final class BetaGammaQuantizer extends Quantizer {
    /** OmniQuant's initial logit: sigmoid(4) = 0.982. */
    public static final double OMNIQUANT_INITIAL_LOGIT = 4.0;

    private final boolean sigmoid;
    private Tensor dataMin;
    private Tensor dataMax;

    /** Starts from the given beta and gamma (logits when {@code sigmoid}), copied. */
    public BetaGammaQuantizer(QuantConfig config, Tensor beta, Tensor gamma, boolean sigmoid) {
        super(config, beta.shape());
        this.sigmoid = sigmoid;
        registerParameter("beta", copy(beta));
        registerParameter("gamma", copy(gamma));
    }

    /**
     * The reference initialisation: beta = gamma = 1 without sigmoid (the data's own range), logits 4
     * with sigmoid (OmniQuant).
     */
    public static BetaGammaQuantizer initial(QuantConfig config, Tensor like, boolean sigmoid) {
        double v = sigmoid ? OMNIQUANT_INITIAL_LOGIT : 1.0;
        Tensor t = like.detach().mul(0).add(v);
        return new BetaGammaQuantizer(config, t, t, sigmoid);
    }

    /**
     * The beta/gamma that reproduce {@code range} on data with extremes {@code data}: beta = min/data.min,
     * gamma = max/data.max (then the logit, with sigmoid). Errors where a data extreme is 0, or, with
     * sigmoid, where a ratio is outside (0, 1).
     */
    public static BetaGammaQuantizer fromRange(QuantConfig config, Range range, Range data, boolean sigmoid) {
        double[] lo = range.minValues(), hi = range.maxValues();
        double[] dlo = data.minValues(), dhi = data.maxValues();
        if (dlo.length != lo.length) {
            throw new IllegalArgumentException("toBetaGamma: " + dlo.length + " data extremes for " + lo.length + " channels");
        }
        double[] beta = new double[lo.length], gamma = new double[lo.length];
        for (int c = 0; c < lo.length; c++) {
            beta[c] = ratio("beta", lo[c], dlo[c], c, sigmoid);
            gamma[c] = ratio("gamma", hi[c], dhi[c], c, sigmoid);
        }
        Tensor like = range.min();
        return new BetaGammaQuantizer(config, Tensor.of(beta, like.dtype(), like.shape()),
                Tensor.of(gamma, like.dtype(), like.shape()), sigmoid);
    }

    private static double ratio(String name, double bound, double extreme, int channel, boolean sigmoid) {
        if (extreme == 0) {
            throw new IllegalArgumentException("toBetaGamma: the data extreme for " + name + " is 0 at channel " + channel
                    + ", so " + name + " = bound/extreme is undefined");
        }
        double r = bound / extreme;
        if (!sigmoid) return r;
        if (!(r > 0 && r < 1)) {
            throw new IllegalArgumentException("toBetaGamma: " + name + " = " + r + " at channel " + channel
                    + " is outside (0, 1), which the sigmoid form cannot represent");
        }
        return Math.log(r / (1 - r));
    }

    /** Whether beta and gamma are logits passed through a sigmoid (OmniQuant) rather than used directly. */
    public boolean usesSigmoid() {
        return sigmoid;
    }

    @Override
    public Parameterization parameterization() {
        return sigmoid ? Parameterization.BETA_GAMMA_SIGMOID : Parameterization.BETA_GAMMA;
    }

    /** The (per-channel) extremes of the last input, shaped like the parameters; null before any input. */
    public Range lastDataRange() {
        return dataMin == null ? null : new Range(dataMin, dataMax);
    }

    @Override
    protected void observe(Tensor x) {
        Range r;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            r = RangeInit.dataExtremes(x.detach(), config().channelAxis());
        }
        dataMin = r.min();
        dataMax = r.max();
    }

    @Override
    protected Grid grid(double paramGradScale) {
        if (dataMin == null) {
            throw new IllegalStateException("beta/gamma quantizer: the range is relative to the data; run forward first");
        }
        Tensor beta = rangeParam("beta", paramGradScale);
        Tensor gamma = rangeParam("gamma", paramGradScale);
        if (sigmoid) {
            beta = beta.sigmoid();
            gamma = gamma.sigmoid();
        }
        return gridFromRange(beta.mul(dataMin), gamma.mul(dataMax));
    }
}
