package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.FewShotConfig;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end on synthetic data: two learners meta-trained on two distributions that need opposite
 * halves of the image ({@link SyntheticSources}), then a WPN trained on episodes of both; on
 * held-out classes the WPN must give most weight to the learner of the episode's own distribution.
 */
class MxmlSpecializationTest {
    private static final int SIZE = 16;
    private static final EpisodeSpec SPEC = EpisodeSpec.fixed(3, 3, 3);
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    /** Learners, WPN training and evaluation twice with the same seeds: the same numbers, bit for bit. */
    @Test
    void sameSeedsGiveIdenticalResults(@TempDir Path dir) throws Exception {
        double[][] runs = new double[2][];
        for (int run = 0; run < 2; run++) {
            ImageDataset leftTest = SyntheticSources.halves("left", true, 4, 6, SIZE, 3);
            MxmlTrainer.Outcome outcome = trainMixture(dir.resolve("run" + run), 6, 6, 4, 6, new MxmlTrainer.Settings(6, 2, 8, 1e-2, 1));
            MxmlEvaluation.Result r = MxmlEvaluation.evaluate(outcome.model(), null, leftTest, SPEC, 4, 11, null);
            double[] w = r.meanWeights();
            runs[run] = new double[]{outcome.epochLoss()[0], outcome.epochLoss()[1], w[0], w[1],
                    r.accuracyByMethod().get(MxmlEvaluation.MXML).mean(), r.accuracyByMethod().get("left").mean()};
        }
        assertArrayEquals(runs[0], runs[1], 0.0, "two runs with the same seeds");
    }

    /**
     * Two WPNs over the same learners evaluated together (the learners run once per episode) give
     * each exactly what it gives alone, and the paired differences are per-episode differences.
     */
    @Test
    void severalMixturesEvaluateAsEachAlone(@TempDir Path dir) throws Exception {
        ImageDataset leftTest = SyntheticSources.halves("left", true, 4, 6, SIZE, 3);
        ImageDataset rightTest = SyntheticSources.halves("right", false, 4, 6, SIZE, 4);
        MxmlTrainer.Outcome first = trainMixture(dir, 6, 6, 4, 6, new MxmlTrainer.Settings(6, 2, 8, 1e-2, 1));
        MxmlTrainer.Outcome second = MxmlTrainer.train(first.model().learners(),
                new EpisodeSources(List.of("left", "right"), List.of(leftTest, rightTest), SPEC, 9),
                new MxmlTrainer.Settings(6, 3, 8, 3e-2, 2), null, QUIET);
        java.util.Map<String, MxmlModel> both = new java.util.LinkedHashMap<>();
        both.put("first", first.model());
        both.put("second", second.model());
        MxmlEvaluation.Result together = MxmlEvaluation.evaluate(both, null, leftTest, SPEC, 5, 11, null);
        MxmlEvaluation.Result firstAlone = MxmlEvaluation.evaluate(first.model(), null, leftTest, SPEC, 5, 11, null);
        MxmlEvaluation.Result secondAlone = MxmlEvaluation.evaluate(second.model(), null, leftTest, SPEC, 5, 11, null);
        assertEquals(List.of("left", "right", MxmlEvaluation.UNIFORM, "first", "second"),
                List.copyOf(together.accuracyByMethod().keySet()));
        assertArrayEquals(firstAlone.accuracyByMethod().get(MxmlEvaluation.MXML).perEpisode(),
                together.accuracyByMethod().get("first").perEpisode(), 0.0);
        assertArrayEquals(secondAlone.accuracyByMethod().get(MxmlEvaluation.MXML).perEpisode(),
                together.accuracyByMethod().get("second").perEpisode(), 0.0);
        assertArrayEquals(secondAlone.meanWeights(), together.weightsByMixture().get("second").mean(), 0.0);
        assertArrayEquals(firstAlone.meanWeights(), together.meanWeights(), 0.0);

        double[] a = together.accuracyByMethod().get("second").perEpisode();
        double[] b = together.accuracyByMethod().get("left").perEpisode();
        double[] d = together.pairedDifference("second", "left").perEpisode();
        for (int i = 0; i < a.length; i++) assertEquals(a[i] - b[i], d[i], 0.0, "episode " + i);
        assertThrows(IllegalArgumentException.class, () -> together.pairedDifference("second", "nobody"));
    }

    /**
     * A TPN learner mixes like a prototypical one: its log-probabilities are the log-softmax of its
     * own query scores, its summary comes from its encoder, and a WPN trains over a protonet and a
     * TPN learner together.
     */
    @Test
    void tpnLearnersJoinTheMixture(@TempDir Path dir) throws Exception {
        ImageDataset left = SyntheticSources.halves("left", true, 6, 6, SIZE, 1);
        FewShotConfig tpnConfig = new FewShotConfig("tpn", 3, 3, 3, false, 4, SIZE, 4, 1e-2,
                Integer.MAX_VALUE, Integer.MAX_VALUE, 0, 20, 0.99, false, 1);
        FewShotModel tpn = LearnerTrainer.train(tpnConfig,
                new EpisodeSources(List.of("left"), List.of(left), SPEC, 5), dir.resolve("tpn"), QUIET).model();
        FrozenLearner frozen = new FrozenLearner("tpn", tpn, dir.resolve("tpn"));
        io.github.grad4j.experiments.meta.EpisodeBatch batch = io.github.grad4j.experiments.meta.EpisodeBatch.of(
                new io.github.grad4j.experiments.meta.data.EpisodeSampler(left, SPEC, 3).next(), frozen.dtype());
        FrozenLearner.View view = frozen.view(batch, io.github.grad4j.backend.DType.FLOAT32);
        tpn.eval();
        double[] expected;
        try (var ignored = io.github.grad4j.autograd.GradMode.noGrad()) {
            expected = tpn.forward(batch).queryScores().logSoftmax(1).toDoubleArray();
        }
        assertArrayEquals(expected, view.queryLogProbabilities().toDoubleArray(), 1e-6);
        assertEquals(SupportSummary.SIZE, view.summary().length);
        for (double v : view.summary()) assertTrue(Double.isFinite(v), java.util.Arrays.toString(view.summary()));

        FewShotConfig protoConfig = new FewShotConfig("protonet", 3, 3, 3, false, 4, SIZE, 4, 1e-2,
                Integer.MAX_VALUE, Integer.MAX_VALUE, 0, 20, 0.99, false, 1);
        FewShotModel proto = LearnerTrainer.train(protoConfig,
                new EpisodeSources(List.of("left"), List.of(left), SPEC, 6), dir.resolve("proto"), QUIET).model();
        MxmlTrainer.Outcome outcome = MxmlTrainer.train(List.of(new FrozenLearner("proto", proto, dir.resolve("proto")), frozen),
                new EpisodeSources(List.of("left"), List.of(left), SPEC, 7), new MxmlTrainer.Settings(4, 2, 8, 1e-2, 1),
                dir.resolve("mxml"), QUIET);
        assertTrue(Double.isFinite(outcome.epochLoss()[1]));
        MxmlModel reloaded = MxmlModel.load(dir.resolve("mxml"));
        assertEquals("tpn", reloaded.learners().get(1).model().method());
    }

    @Test
    void wpnWeightsTheLearnerOfTheEpisodesDistribution(@TempDir Path dir) throws Exception {
        ImageDataset leftTest = SyntheticSources.halves("left", true, 6, 10, SIZE, 3);
        ImageDataset rightTest = SyntheticSources.halves("right", false, 6, 10, SIZE, 4);
        MxmlTrainer.Outcome outcome = trainMixture(dir, 12, 10, 8, 100, new MxmlTrainer.Settings(60, 8, 16, 1e-2, 1));

        MxmlEvaluation.Result onLeft = MxmlEvaluation.evaluate(outcome.model(), null, leftTest, SPEC, 20, 11, null);
        MxmlEvaluation.Result onRight = MxmlEvaluation.evaluate(outcome.model(), null, rightTest, SPEC, 20, 12, null);
        // precondition: the learners did specialize, otherwise there is nothing to pick
        double leftOnLeft = onLeft.accuracyByMethod().get("left").mean();
        double rightOnLeft = onLeft.accuracyByMethod().get("right").mean();
        double rightOnRight = onRight.accuracyByMethod().get("right").mean();
        double leftOnRight = onRight.accuracyByMethod().get("left").mean();
        assertTrue(leftOnLeft > rightOnLeft + 0.15 && rightOnRight > leftOnRight + 0.15,
                "learners did not specialize: left " + leftOnLeft + "/" + leftOnRight + ", right " + rightOnLeft + "/" + rightOnRight);

        assertTrue(onLeft.meanWeights()[0] > 0.7, "weight of the left learner on left episodes: " + onLeft.meanWeights()[0]);
        assertTrue(onRight.meanWeights()[1] > 0.7, "weight of the right learner on right episodes: " + onRight.meanWeights()[1]);
        // the mixture should do better than the wrong learner alone (it is not guaranteed to beat the uniform ensemble)
        double mixtureOnLeft = onLeft.accuracyByMethod().get(MxmlEvaluation.MXML).mean();
        assertTrue(mixtureOnLeft > rightOnLeft + 0.1, "MxML " + mixtureOnLeft + " vs the right-half learner " + rightOnLeft);

        // the saved model reloads to the same weights
        MxmlModel reloaded = MxmlModel.load(dir.resolve("mxml"));
        MxmlEvaluation.Result again = MxmlEvaluation.evaluate(reloaded, null, leftTest, SPEC, 20, 11, null);
        assertArrayEquals(onLeft.meanWeights(), again.meanWeights(), 1e-6);
    }

    /**
     * Two ProtoNet learners (Conv-4 with {@code filters}), one on each half-image source of
     * {@code classes} x {@code images}, trained {@code learnerEpisodes} episodes; then a WPN over them
     * on episodes of both sources. Everything is seeded, and saved under {@code dir}.
     */
    private static MxmlTrainer.Outcome trainMixture(Path dir, int classes, int images, int filters, int learnerEpisodes,
                                                    MxmlTrainer.Settings settings) throws Exception {
        ImageDataset leftTrain = SyntheticSources.halves("left", true, classes, images, SIZE, 1);
        ImageDataset rightTrain = SyntheticSources.halves("right", false, classes, images, SIZE, 2);
        FewShotConfig config = new FewShotConfig("protonet", 3, 3, 3, false, filters, SIZE, learnerEpisodes, 1e-2,
                Integer.MAX_VALUE, Integer.MAX_VALUE, 0, 20, 0.99, false, 1);
        FewShotModel left = LearnerTrainer.train(config,
                new EpisodeSources(List.of("left"), List.of(leftTrain), SPEC, 5), dir.resolve("left"), QUIET).model();
        FewShotModel right = LearnerTrainer.train(config,
                new EpisodeSources(List.of("right"), List.of(rightTrain), SPEC, 6), dir.resolve("right"), QUIET).model();
        List<FrozenLearner> learners = List.of(new FrozenLearner("left", left, dir.resolve("left")),
                new FrozenLearner("right", right, dir.resolve("right")));
        return MxmlTrainer.train(learners, new EpisodeSources(List.of("left", "right"), List.of(leftTrain, rightTrain), SPEC, 7),
                settings, dir.resolve("mxml"), QUIET);
    }
}
