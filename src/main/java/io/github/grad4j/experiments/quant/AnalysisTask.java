package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One controlled experiment of the gradient analysis: data with a known distribution, one or two
 * quantizers whose ranges are learned, and a loss. The data are a pure function of the seed, so
 * every parameterization of a cell sees the same numbers.
 */
final class AnalysisTask {

    /** The synthetic inputs. All but LINEAR use the full-precision values as the target (MSE). */
    enum Dataset {
        /** N(0.3, 1), per tensor (the reference note's toy). */
        GAUSSIAN("gaussian"),
        /** Laplace(0, 1): heavier tails, per tensor. */
        LAPLACIAN("laplacian"),
        /** N(0, 1) with 0.1% (at least 2) outliers of magnitude 20..50, per tensor. */
        GAUSSIAN_OUTLIERS("gaussian-outliers"),
        /** N(0, 1) rows scaled by 1e-3 .. 1e1 (log-spaced), quantized per channel (axis 0). */
        CHANNEL_SCALES("channel-scales"),
        /**
         * y = Q_a(X) Q_w(W)^T against the teacher y = X W^T (MSE); W [out, in] per channel along
         * axis 0, X [batch, in] per tensor with three input channels 10x larger (activation outliers).
         * W itself is frozen: only the ranges learn.
         */
        LINEAR("linear");

        final String cliName;

        Dataset(String cliName) {
            this.cliName = cliName;
        }

        @Override
        public String toString() {
            return cliName;
        }
    }

    /** What one step computed: the loss and every range parameter's gradient split by region. */
    record StepResult(double loss, Map<String, Map<String, GradientSplit.RegionGradients>> splits) {
    }

    final Dataset dataset;
    /** Quantizers by name ("x", or "weight" and "activation"), in a fixed order. */
    final Map<String, Quantizer> quantizers = new LinkedHashMap<>();
    private final Map<String, Tensor> inputs = new LinkedHashMap<>();
    private Tensor teacher;

    /**
     * Builds the data for {@code dataset} from {@code seed} and quantizers of {@code p} whose initial
     * range is {@code initialShrink} times the data's min/max (per channel where per channel).
     */
    AnalysisTask(Dataset dataset, Parameterization p, int bits, long seed, int size, int channels, double initialShrink) {
        this.dataset = dataset;
        Rng rng = new Rng(seed * 0x9E3779B97F4A7C15L + dataset.ordinal());
        switch (dataset) {
            case GAUSSIAN -> addQuantized("x", gaussian(rng, size, 0.3), p, bits, QuantConfig.PER_TENSOR, initialShrink);
            case LAPLACIAN -> addQuantized("x", laplacian(rng, size), p, bits, QuantConfig.PER_TENSOR, initialShrink);
            case GAUSSIAN_OUTLIERS -> addQuantized("x", outliers(rng, size), p, bits, QuantConfig.PER_TENSOR, initialShrink);
            case CHANNEL_SCALES -> addQuantized("x", channelScales(rng, channels, size / channels), p, bits, 0, initialShrink);
            case LINEAR -> {
                int in = 32, batch = Math.max(16, size / in);
                double[] w = new double[channels * in];
                for (int i = 0; i < w.length; i++) w[i] = rng.nextGaussian() / Math.sqrt(in);
                double[] xs = new double[batch * in];
                for (int i = 0; i < xs.length; i++) xs[i] = rng.nextGaussian() * (i % in < 3 ? 10 : 1);
                Tensor weight = Tensor.of(w, DType.FLOAT64, channels, in);
                Tensor acts = Tensor.of(xs, DType.FLOAT64, batch, in);
                addQuantized("weight", weight, p, bits, 0, initialShrink);
                addQuantized("activation", acts, p, bits, QuantConfig.PER_TENSOR, initialShrink);
                teacher = Functional.linear(acts, weight, null);
            }
        }
    }

    private void addQuantized(String name, Tensor x, Parameterization p, int bits, int axis, double shrink) {
        QuantConfig config = new QuantConfig(bits, axis, p.defaultZeroPointRounding(), false);
        Range start = RangeInit.scaled(RangeInit.minMax(x, axis), shrink);
        Quantizer q = switch (p) {
            case SCALE_OFFSET -> ScaleOffsetQuantizer.fromRange(config, start);
            case MIN_MAX -> new MinMaxQuantizer(config, start);
            case BETA_GAMMA, BETA_GAMMA_SIGMOID ->
                    BetaGammaQuantizer.fromRange(config, start, RangeInit.dataExtremes(x, axis), p == Parameterization.BETA_GAMMA_SIGMOID);
        };
        quantizers.put(name, q);
        inputs.put(name, x);
    }

    /** Forward, loss, and the split gradients of every range parameter (nothing is updated). */
    StepResult step() {
        Map<String, Tensor> outputs = new LinkedHashMap<>();
        for (Map.Entry<String, Quantizer> e : quantizers.entrySet()) {
            outputs.put(e.getKey(), e.getValue().forward(inputs.get(e.getKey())));
        }
        Tensor loss = dataset == Dataset.LINEAR
                ? Functional.mseLoss(Functional.linear(outputs.get("activation"), outputs.get("weight"), null), teacher)
                : Functional.mseLoss(outputs.get("x"), inputs.get("x"));
        Tensor[] quantized = outputs.values().toArray(new Tensor[0]);
        // upstream gradient at each quantizer's output, then split by region through the quantizer
        Tensor[] upstream = Autograd.grad(new Tensor[]{loss}, quantized, null, false, true, false);
        Map<String, Map<String, GradientSplit.RegionGradients>> splits = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Quantizer> e : quantizers.entrySet()) {
            splits.put(e.getKey(), GradientSplit.split(e.getValue(), inputs.get(e.getKey()), quantized[i], upstream[i]));
            i++;
        }
        return new StepResult(loss.item(), splits);
    }

    /** The input a quantizer sees. */
    Tensor input(String quantizer) {
        return inputs.get(quantizer);
    }

    // ---------------------------------------------------------------- distributions

    static Tensor gaussian(Rng rng, int n, double mean) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = mean + rng.nextGaussian();
        return Tensor.of(v, DType.FLOAT64, n);
    }

    private static Tensor laplacian(Rng rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble() - 0.5;
            v[i] = -Math.signum(u) * Math.log(1 - 2 * Math.abs(u) + 1e-300);
        }
        return Tensor.of(v, DType.FLOAT64, n);
    }

    private static Tensor outliers(Rng rng, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = rng.nextGaussian();
        int count = Math.max(2, n / 1000);
        for (int k = 0; k < count; k++) {
            double magnitude = 20 + 30 * rng.nextDouble();
            v[rng.nextInt(n)] = (k % 2 == 0 ? 1 : -1) * magnitude;
        }
        return Tensor.of(v, DType.FLOAT64, n);
    }

    private static Tensor channelScales(Rng rng, int channels, int perChannel) {
        double[] v = new double[channels * perChannel];
        for (int c = 0; c < channels; c++) {
            double scale = Math.pow(10, -3 + 4.0 * c / Math.max(1, channels - 1));
            for (int j = 0; j < perChannel; j++) v[c * perChannel + j] = scale * rng.nextGaussian();
        }
        return Tensor.of(v, DType.FLOAT64, channels, perChannel);
    }
}
