package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.Module;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/**
 * The weight prediction network of MxML: reads the {@link SupportSummary} of an episode as seen by
 * each of the M learners (concatenated, M x {@link SupportSummary#SIZE} numbers), standardizes it
 * with fixed statistics, and maps it through Linear - tanh - Linear to M logits; the mixing weights
 * are their softmax. Reading all learners' summaries together lets it compare them (which learner
 * clusters this support best).
 *
 * <p>The output layer starts at zero, so an untrained WPN is exactly the uniform ensemble and
 * training moves away from it only as far as the query loss asks.
 *
 * <p>Parameters: "hidden.weight", "hidden.bias", "output.weight", "output.bias"; buffers
 * "feature_mean" and "feature_std" (set by {@link #setStandardization} from training episodes and
 * saved with the weights).
 */
public final class WeightPredictionNetwork extends Module {
    private final int learners;
    private final int hiddenSize;
    private final Linear hidden;
    private final Linear output;

    /**
     * @param learners   M, the number of mixed learners (at least 1)
     * @param hiddenSize width of the hidden layer
     * @param dtype      FLOAT32 to train, FLOAT64 for gradient checks
     */
    public WeightPredictionNetwork(int learners, int hiddenSize, Rng rng, DType dtype) {
        if (learners < 1 || hiddenSize < 1) {
            throw new IllegalArgumentException("WeightPredictionNetwork: learners and hiddenSize must be positive, got "
                    + learners + " and " + hiddenSize);
        }
        this.learners = learners;
        this.hiddenSize = hiddenSize;
        int inputs = learners * SupportSummary.SIZE;
        hidden = registerModule("hidden", new Linear(inputs, hiddenSize, true, rng, dtype));
        output = registerModule("output", new Linear(hiddenSize, learners, true, rng, dtype));
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor p : output.parameters()) p.assign(Tensor.zeros(p.backend(), dtype, p.shape()));
        }
        registerBuffer("feature_mean", Tensor.zeros(dtype, inputs));
        registerBuffer("feature_std", Tensor.ones(dtype, inputs));
    }

    public int learners() {
        return learners;
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    public DType dtype() {
        return buffer("feature_mean").dtype();
    }

    /**
     * Fixes the standardization x -> (x - mean) / std. A feature with (near) zero spread gets std 1,
     * so it cannot blow up.
     */
    public void setStandardization(double[] mean, double[] std) {
        int inputs = learners * SupportSummary.SIZE;
        if (mean.length != inputs || std.length != inputs) {
            throw new IllegalArgumentException("setStandardization: need " + inputs + " means and stds, got "
                    + mean.length + " and " + std.length);
        }
        double[] safeStd = std.clone();
        for (int i = 0; i < safeStd.length; i++) if (!(safeStd[i] > 1e-6)) safeStd[i] = 1;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            buffer("feature_mean").assign(Tensor.of(mean, dtype(), inputs).to(buffer("feature_mean").backend()));
            buffer("feature_std").assign(Tensor.of(safeStd, dtype(), inputs).to(buffer("feature_std").backend()));
        }
    }

    /** Log mixing weights [M] (a log-softmax, so stable) for concatenated per-learner summaries. */
    public Tensor logWeights(double[] summaries) {
        return logits(summaries).logSoftmax(0);
    }

    /** Mixing weights as plain numbers (summing to 1), without recording a graph. */
    public double[] weights(double[] summaries) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return logits(summaries).softmax(0).toDoubleArray();
        }
    }

    /** Logits [B, M] for summaries [B, M x {@link SupportSummary#SIZE}]. */
    public Tensor forward(Tensor summaries) {
        Tensor standardized = summaries.sub(buffer("feature_mean")).div(buffer("feature_std"));
        return output.forward(hidden.forward(standardized).tanh());
    }

    private Tensor logits(double[] summaries) {
        int inputs = learners * SupportSummary.SIZE;
        if (summaries.length != inputs) {
            throw new IllegalArgumentException("WeightPredictionNetwork: expected " + learners + " x "
                    + SupportSummary.SIZE + " = " + inputs + " summary values, got " + summaries.length);
        }
        Tensor x = Tensor.of(summaries, dtype(), 1, inputs).to(buffer("feature_mean").backend());
        return forward(x).reshape(learners);
    }
}
