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

    /** Mean and standard deviation over episodes of the weight a WPN gives each learner. */
    public record Weights(double[] mean, double[] std) {
    }

    /**
     * @param accuracyByMethod  accuracy (mean, 95% CIs, per-episode) of each method, in display order
     * @param weightsByMixture  the WPN weights of each mixture, in the order the mixtures were given
     */
    public record Result(Map<String, FewShotEvaluator.Accuracy> accuracyByMethod, Map<String, Weights> weightsByMixture) {
        /** Mean weights of the first (or only) mixture. */
        public double[] meanWeights() {
            return weightsByMixture.values().iterator().next().mean();
        }

        /** Their standard deviation over episodes. */
        public double[] weightStd() {
            return weightsByMixture.values().iterator().next().std();
        }

        /**
         * The paired difference {@code method - baseline} over the same episodes: mean and 95% CIs of
         * the per-episode accuracy differences (much narrower than comparing two unpaired intervals,
         * since both methods meet the same hard and easy episodes).
         */
        public FewShotEvaluator.Accuracy pairedDifference(String method, String baseline) {
            double[] a = get(method).perEpisode(), b = get(baseline).perEpisode();
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
            return FewShotEvaluator.summarize(d);
        }

        private FewShotEvaluator.Accuracy get(String method) {
            FewShotEvaluator.Accuracy a = accuracyByMethod.get(method);
            if (a == null) throw new IllegalArgumentException("no method '" + method + "'; have " + accuracyByMethod.keySet());
            return a;
        }
    }

    private MxmlEvaluation() {
    }

    /** One mixture, reported as {@value #MXML}. */
    public static Result evaluate(MxmlModel model, FewShotModel union, ImageDataset data, EpisodeSpec spec,
                                  int episodes, long seed, IntConsumer afterEpisode) {
        Map<String, MxmlModel> mixtures = new LinkedHashMap<>();
        mixtures.put(MXML, model);
        return evaluate(mixtures, union, data, spec, episodes, seed, afterEpisode);
    }

    /**
     * @param mixtures     named mixtures (e.g. WPNs trained on different episodes) over the same
     *                     learners, in display order: the learners run once per episode for all
     * @param union        the union baseline, or null
     * @param afterEpisode receives the number of episodes done (progress), may be null
     */
    public static Result evaluate(Map<String, MxmlModel> mixtures, FewShotModel union, ImageDataset data,
                                  EpisodeSpec spec, int episodes, long seed, IntConsumer afterEpisode) {
        if (episodes < 1) throw new IllegalArgumentException("MxML evaluation: need at least one episode, got " + episodes);
        if (mixtures.isEmpty()) throw new IllegalArgumentException("MxML evaluation: no mixture given");
        MxmlModel model = mixtures.values().iterator().next();
        for (Map.Entry<String, MxmlModel> e : mixtures.entrySet()) {
            if (!e.getValue().learnerNames().equals(model.learnerNames())) {
                throw new IllegalArgumentException("MxML evaluation: mixture '" + e.getKey() + "' has learners "
                        + e.getValue().learnerNames() + ", the first has " + model.learnerNames());
            }
        }
        EpisodeSampler sampler = new EpisodeSampler(data, spec, seed);
        List<String> learnerNames = model.learnerNames();
        int m = learnerNames.size();
        List<String> methods = new ArrayList<>(learnerNames);
        methods.add(UNIFORM);
        if (union != null) methods.add(UNION);
        int firstMixture = methods.size();
        methods.addAll(mixtures.keySet());
        List<MxmlModel> mixtureModels = new ArrayList<>(mixtures.values());
        double[][] accuracies = new double[methods.size()][episodes];
        double[][][] weights = new double[mixtures.size()][episodes][];
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
                for (int k = 0; k < mixtureModels.size(); k++) {
                    MxmlModel.Prediction prediction = mixtureModels.get(k).predict(analysis);
                    accuracies[firstMixture + k][e] = prediction.accuracy();
                    weights[k][e] = prediction.weights();
                }
                if (afterEpisode != null) afterEpisode.accept(e + 1);
            }
        } finally {
            if (union != null) union.train(unionWasTraining);
        }
        Map<String, FewShotEvaluator.Accuracy> byMethod = new LinkedHashMap<>();
        for (int i = 0; i < methods.size(); i++) byMethod.put(methods.get(i), FewShotEvaluator.summarize(accuracies[i]));
        Map<String, Weights> weightsByMixture = new LinkedHashMap<>();
        int k = 0;
        for (String name : mixtures.keySet()) weightsByMixture.put(name, summarizeWeights(weights[k++], m));
        return new Result(byMethod, weightsByMixture);
    }

    private static Weights summarizeWeights(double[][] weights, int m) {
        int episodes = weights.length;
        double[] mean = new double[m];
        double[] std = new double[m];
        for (double[] w : weights) for (int l = 0; l < m; l++) mean[l] += w[l] / episodes;
        for (double[] w : weights) for (int l = 0; l < m; l++) std[l] += Math.pow(w[l] - mean[l], 2) / episodes;
        for (int l = 0; l < m; l++) std[l] = Math.sqrt(std[l]);
        return new Weights(mean, std);
    }
}
