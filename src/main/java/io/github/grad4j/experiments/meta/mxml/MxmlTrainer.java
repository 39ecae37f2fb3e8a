package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.Progress;
import io.github.grad4j.tensor.Rng;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Trains the weight prediction network of an MxML model with the learners frozen.
 *
 * <p>Because the learners never change, what they say about an episode (support summaries, query
 * log-probabilities) is computed once: a pool of {@code poolEpisodes} episodes is analysed, the
 * WPN's feature standardization is fitted on it, and the WPN then takes one Adam step per episode
 * on the query cross-entropy of the mixture, for {@code epochs} shuffled passes over the pool. This
 * is exactly episodic training on those episodes, at the cost of M learner forward passes per pool
 * episode instead of per step.
 */
public final class MxmlTrainer {
    public static final String LOG = "wpn_train_log.csv";

    /**
     * @param poolEpisodes episodes analysed once and trained on
     * @param epochs       passes over the pool
     * @param hiddenSize   the WPN's hidden width
     * @param learningRate Adam's learning rate
     * @param seed         seeds the WPN's weights and the pass order (the episodes come from the sources' seed)
     */
    public record Settings(int poolEpisodes, int epochs, int hiddenSize, double learningRate, long seed) {
        public Settings {
            if (poolEpisodes < 2 || epochs < 1 || hiddenSize < 1 || !(learningRate > 0)) {
                throw new IllegalArgumentException("MxML training: need poolEpisodes >= 2, epochs >= 1, hiddenSize >= 1 "
                        + "and a positive learning rate, got " + poolEpisodes + ", " + epochs + ", " + hiddenSize
                        + ", " + learningRate);
            }
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pool_episodes", (long) poolEpisodes);
            m.put("epochs", (long) epochs);
            m.put("wpn_hidden", (long) hiddenSize);
            m.put("learning_rate", learningRate);
            m.put("seed", seed);
            return m;
        }
    }

    /**
     * What training ended with: the model, per-epoch mean query loss and accuracy of the mixture
     * on the pool, and the mean weights the final WPN gives each source's pool episodes
     * ({@code [source][learner]}).
     */
    public record Outcome(MxmlModel model, double[] epochLoss, double[] epochAccuracy, double[][] meanWeightsBySource,
                          double secondsAnalysing, double secondsTraining) {
    }

    private MxmlTrainer() {
    }

    /** Trains a fresh WPN over {@code learners} and, if {@code outDir} is not null, saves the model there. */
    public static Outcome train(List<FrozenLearner> learners, EpisodeSources sources, Settings settings, Path outDir,
                                PrintStream out) throws IOException {
        DType dtype = DType.FLOAT32;
        WeightPredictionNetwork wpn = new WeightPredictionNetwork(learners.size(), settings.hiddenSize(),
                new Rng(settings.seed()), dtype);
        MxmlModel model = new MxmlModel(learners, wpn);

        long start = System.nanoTime();
        List<EpisodeAnalysis> pool = new ArrayList<>();
        int[] sourceOf = new int[settings.poolEpisodes()];
        Progress analysing = Progress.builder(settings.poolEpisodes()).unitName("ep").out(out).build();
        for (int e = 0; e < settings.poolEpisodes(); e++) {
            EpisodeSources.Drawn drawn = sources.episode(e);
            sourceOf[e] = drawn.source();
            pool.add(model.analyze(EpisodeBatch.of(drawn.episode(), learners.get(0).dtype())));
            analysing.update(e + 1, 1);
        }
        analysing.finish();
        double secondsAnalysing = (System.nanoTime() - start) / 1e9;
        fitStandardization(wpn, pool);

        start = System.nanoTime();
        Adam optimizer = new Adam(wpn.namedParameters(), settings.learningRate());
        SplittableRandom order = new SplittableRandom(settings.seed());
        double[] epochLoss = new double[settings.epochs()];
        double[] epochAccuracy = new double[settings.epochs()];
        CsvWriter log = new CsvWriter("epoch", "mean_query_loss", "mean_query_accuracy");
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            int[] permutation = shuffled(pool.size(), order);
            for (int index : permutation) {
                optimizer.zeroGrad();
                MxmlModel.Prediction prediction = model.predict(pool.get(index));
                double loss = prediction.loss().item();
                if (!Double.isFinite(loss)) {
                    throw new IllegalStateException("WPN training diverged in epoch " + (epoch + 1) + ": loss " + loss);
                }
                prediction.loss().backward();
                optimizer.step();
                epochLoss[epoch] += loss / pool.size();
                epochAccuracy[epoch] += prediction.accuracy() / pool.size();
            }
            log.row(epoch + 1, epochLoss[epoch], epochAccuracy[epoch]);
            out.printf("  WPN epoch %d/%d: mixture query loss %.4f, accuracy %.3f%n", epoch + 1, settings.epochs(),
                    epochLoss[epoch], epochAccuracy[epoch]);
        }
        double secondsTraining = (System.nanoTime() - start) / 1e9;

        double[][] meanWeights = new double[sources.names().size()][learners.size()];
        int[] counts = new int[sources.names().size()];
        for (int e = 0; e < pool.size(); e++) {
            double[] w = wpn.weights(pool.get(e).summaries());
            for (int m = 0; m < w.length; m++) meanWeights[sourceOf[e]][m] += w[m];
            counts[sourceOf[e]]++;
        }
        for (int s = 0; s < counts.length; s++) {
            for (int m = 0; m < learners.size(); m++) meanWeights[s][m] = counts[s] == 0 ? Double.NaN : meanWeights[s][m] / counts[s];
        }
        if (outDir != null) {
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("ways", (long) sources.spec().ways());
            extra.put("shots", (long) sources.spec().shots());
            extra.put("queries", (long) sources.spec().queries());
            extra.put("training", settings.toMap());
            extra.put("training_sources", sources.toString());
            extra.put("final_epoch_loss", epochLoss[epochLoss.length - 1]);
            extra.put("final_epoch_accuracy", epochAccuracy[epochAccuracy.length - 1]);
            model.save(outDir, extra);
            log.write(outDir.resolve(LOG));
        }
        return new Outcome(model, epochLoss, epochAccuracy, meanWeights, secondsAnalysing, secondsTraining);
    }

    /** Mean and (population) standard deviation of each summary value over the pool. */
    static void fitStandardization(WeightPredictionNetwork wpn, List<EpisodeAnalysis> pool) {
        int inputs = pool.get(0).summaries().length;
        double[] mean = new double[inputs];
        double[] std = new double[inputs];
        for (EpisodeAnalysis a : pool) for (int i = 0; i < inputs; i++) mean[i] += a.summaries()[i] / pool.size();
        for (EpisodeAnalysis a : pool) {
            for (int i = 0; i < inputs; i++) std[i] += Math.pow(a.summaries()[i] - mean[i], 2) / pool.size();
        }
        for (int i = 0; i < inputs; i++) std[i] = Math.sqrt(std[i]);
        wpn.setStandardization(mean, std);
    }

    private static int[] shuffled(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
