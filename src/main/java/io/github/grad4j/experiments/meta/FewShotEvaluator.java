package io.github.grad4j.experiments.meta;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.LakeOneShotRuns;
import org.apache.commons.math3.distribution.TDistribution;

import java.util.function.IntConsumer;

/**
 * Evaluation of a trained few-shot model: mean query accuracy over test episodes with 95%
 * confidence intervals, and Lake's one-shot runs. The model runs in evaluation mode (batch norm
 * uses its running statistics) without recording gradients; its mode is restored afterwards.
 */
public final class FewShotEvaluator {
    private FewShotEvaluator() {
    }

    /**
     * Accuracy over episodes.
     *
     * @param episodes   number of episodes
     * @param mean       mean of the per-episode query accuracies
     * @param std        their sample standard deviation (n - 1 in the denominator)
     * @param ci95       TPN's protocol half-width, 1.96 std / sqrt(n)
     * @param ci95T      Student-t half-width, t(0.975, n - 1) std / sqrt(n) (slightly wider for small n)
     * @param perEpisode the accuracy of every episode, in order
     */
    public record Accuracy(int episodes, double mean, double std, double ci95, double ci95T, double[] perEpisode) {
        /** e.g. "97.53% ± 0.41% (95% CI, 1.96 std/sqrt(n), 600 episodes)". */
        public String describe() {
            return String.format("%.2f%% ± %.2f%% (95%% CI = 1.96·std/√n over %d episodes; t-interval ± %.2f%%)",
                    100 * mean, 100 * ci95, episodes, 100 * ci95T);
        }
    }

    /** Mean, sample std and both 95% half-widths of per-episode accuracies (at least one). */
    public static Accuracy summarize(double[] accuracies) {
        int n = accuracies.length;
        if (n == 0) throw new IllegalArgumentException("summarize: no episodes");
        double mean = 0;
        for (double a : accuracies) mean += a;
        mean /= n;
        double squares = 0;
        for (double a : accuracies) squares += (a - mean) * (a - mean);
        double std = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
        double standardError = std / Math.sqrt(n);
        double t = n > 1 ? new TDistribution(n - 1).inverseCumulativeProbability(0.975) : Double.NaN;
        return new Accuracy(n, mean, std, 1.96 * standardError, n > 1 ? t * standardError : Double.NaN,
                accuracies.clone());
    }

    /**
     * Accuracy over {@code episodes} episodes of {@code spec} drawn from {@code data} with the
     * given seed (the same seed gives the same episodes). {@code afterEpisode} receives the count
     * done so far (for progress), may be null.
     */
    public static Accuracy evaluate(FewShotModel model, ImageDataset data, EpisodeSpec spec, int episodes, long seed,
                                    IntConsumer afterEpisode) {
        if (episodes < 1) throw new IllegalArgumentException("evaluate: need at least one episode, got " + episodes);
        EpisodeSampler sampler = new EpisodeSampler(data, spec, seed);
        DType dtype = modelDType(model);
        double[] accuracies = new double[episodes];
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int e = 0; e < episodes; e++) {
                accuracies[e] = model.forward(EpisodeBatch.of(sampler.next(), dtype)).accuracy();
                if (afterEpisode != null) afterEpisode.accept(e + 1);
            }
        } finally {
            model.train(wasTraining);
        }
        return summarize(accuracies);
    }

    /**
     * Lake's one-shot runs: each run is a 20-way 1-shot episode whose support is the 20 training
     * images and whose queries are the 20 test images. ProtoNet classifies each test image by the
     * nearest prototype (here: the nearest training image); TPN propagates labels over all 40
     * images together (transductive), as it does in its own episodes.
     */
    public static LakeOneShotRuns.Evaluation lakeRuns(FewShotModel model, LakeOneShotRuns runs) {
        DType dtype = modelDType(model);
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return runs.evaluate((training, test) -> {
                int[] labels = new int[training.length];
                for (int c = 0; c < labels.length; c++) labels[c] = c;
                EpisodeBatch batch = EpisodeBatch.of(training, labels, test, null, training.length, runs.imageSize(), dtype);
                return model.forward(batch).predictions();
            });
        } finally {
            model.train(wasTraining);
        }
    }

    static DType modelDType(FewShotModel model) {
        return model.parameters().get(0).dtype();
    }
}
