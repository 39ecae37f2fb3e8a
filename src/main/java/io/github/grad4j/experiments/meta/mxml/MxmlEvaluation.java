package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.FewShotEvaluator;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Paired evaluation on one test distribution: every method sees the same episodes (drawn from a
 * seeded sampler), so their differences are not sampling noise between episode sets. Methods: each
 * single learner, the uniform ensemble, MxML (the WPN's weights) and, when given, a learner trained
 * on the union of the sources.
 */
public final class MxmlEvaluation {
    public static final String UNIFORM = "uniform ensemble";
    public static final String MXML = "MxML (WPN)";
    public static final String UNION = "union learner";

    /**
     * @param accuracyByMethod accuracy (mean, 95% CIs, per-episode) of each method, in display order
     * @param meanWeights      mean WPN weight of each learner over the episodes
     * @param weightStd        their standard deviation over episodes
     */
    public record Result(Map<String, FewShotEvaluator.Accuracy> accuracyByMethod, double[] meanWeights,
                         double[] weightStd) {
    }

    private MxmlEvaluation() {
    }

    /**
     * @param union        the union baseline, or null
     * @param afterEpisode receives the number of episodes done (progress), may be null
     */
    public static Result evaluate(MxmlModel model, FewShotModel union, ImageDataset data, EpisodeSpec spec,
                                  int episodes, long seed, IntConsumer afterEpisode) {
        if (episodes < 1) throw new IllegalArgumentException("MxML evaluation: need at least one episode, got " + episodes);
        EpisodeSampler sampler = new EpisodeSampler(data, spec, seed);
        List<String> learnerNames = model.learnerNames();
        int m = learnerNames.size();
        List<String> methods = new ArrayList<>(learnerNames);
        methods.add(UNIFORM);
        if (union != null) methods.add(UNION);
        methods.add(MXML);
        double[][] accuracies = new double[methods.size()][episodes];
        double[][] weights = new double[episodes][];
        boolean unionWasTraining = union != null && union.isTraining();
        if (union != null) union.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int e = 0; e < episodes; e++) {
                EpisodeBatch batch = EpisodeBatch.of(sampler.next(), model.learners().get(0).dtype());
                EpisodeAnalysis analysis = model.analyze(batch);
                for (int l = 0; l < m; l++) {
                    accuracies[l][e] = Mixture.accuracy(analysis.learnerLogProbabilities()[l], batch.queryLabels());
                }
                accuracies[m][e] = MxmlModel.predictWithWeights(analysis, MxmlModel.uniformWeights(m)).accuracy();
                if (union != null) accuracies[m + 1][e] = union.forward(batch).accuracy();
                MxmlModel.Prediction prediction = model.predict(analysis);
                accuracies[methods.size() - 1][e] = prediction.accuracy();
                weights[e] = prediction.weights();
                if (afterEpisode != null) afterEpisode.accept(e + 1);
            }
        } finally {
            if (union != null) union.train(unionWasTraining);
        }
        Map<String, FewShotEvaluator.Accuracy> byMethod = new LinkedHashMap<>();
        for (int i = 0; i < methods.size(); i++) byMethod.put(methods.get(i), FewShotEvaluator.summarize(accuracies[i]));
        double[] mean = new double[m];
        double[] std = new double[m];
        for (double[] w : weights) for (int l = 0; l < m; l++) mean[l] += w[l] / episodes;
        for (double[] w : weights) for (int l = 0; l < m; l++) std[l] += Math.pow(w[l] - mean[l], 2) / episodes;
        for (int l = 0; l < m; l++) std[l] = Math.sqrt(std[l]);
        return new Result(byMethod, mean, std);
    }
}
