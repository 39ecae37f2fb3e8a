package io.github.grad4j.experiments.meta;

import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Short seeded meta-training runs on synthetic 16x16 data (random binary class patterns, pixels
 * flipped per image), 3-way 1-shot, Conv-4 with 8 filters, tested on classes never seen in
 * training. Chance is 1/3.
 */
class FewShotTrainingTest {
    private static final ImageDataset TRAIN = SyntheticFewShotData.dataset("synthetic-train", 20, 10, 16, 0.1, 1);
    private static final ImageDataset TEST = SyntheticFewShotData.dataset("synthetic-test", 10, 10, 16, 0.1, 2);
    /** TPN learns more slowly from scratch (its graph starts nearly disconnected): fewer flipped pixels. */
    private static final ImageDataset TRAIN_EASY = SyntheticFewShotData.dataset("synthetic-train-easy", 20, 10, 16, 0.05, 1);
    private static final ImageDataset TEST_EASY = SyntheticFewShotData.dataset("synthetic-test-easy", 10, 10, 16, 0.05, 2);
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private static FewShotConfig config(String method, int queries, int episodes) {
        return new FewShotConfig(method, 3, 1, queries, false, 8, 16, episodes, 3e-3, 10000, 50, 0, 20, 0.99, false, 1);
    }

    private static double testAccuracy(FewShotModel model, ImageDataset test, int queries) {
        return FewShotEvaluator.evaluate(model, test, EpisodeSpec.fixed(3, 1, queries), 30, 5, null).mean();
    }

    @Test
    void protoNetLearnsUnseenSyntheticClasses(@TempDir Path dir) throws Exception {
        FewShotConfig config = config("protonet", 3, 100);
        double before = testAccuracy(config.buildModel(io.github.grad4j.backend.DType.FLOAT32), TEST, 3);
        FewShotTrainer.Outcome outcome = new FewShotTrainer(config, TRAIN, null, dir, QUIET, "synthetic").train(false);
        double after = testAccuracy(outcome.model(), TEST, 3);
        assertTrue(after >= 0.6 && after >= before + 0.15,
                "ProtoNet test accuracy " + after + " (untrained " + before + ", chance 0.333)");
    }

    @Test
    void tpnLearnsUnseenSyntheticClasses(@TempDir Path dir) throws Exception {
        FewShotConfig config = new FewShotConfig("tpn", 3, 1, 5, false, 8, 16, 150, 1e-3, 10000, 50, 0, 20, 0.99, false, 1);
        double before = testAccuracy(config.buildModel(io.github.grad4j.backend.DType.FLOAT32), TEST_EASY, 5);
        FewShotTrainer.Outcome outcome = new FewShotTrainer(config, TRAIN_EASY, null, dir, QUIET, "synthetic").train(false);
        double after = testAccuracy(outcome.model(), TEST_EASY, 5);
        assertTrue(after >= 0.45 && after >= before + 0.1,
                "TPN test accuracy " + after + " (untrained " + before + ", chance 0.333)");
    }

    @Test
    void reloadedCheckpointGivesIdenticalAccuracy(@TempDir Path dir) throws Exception {
        FewShotConfig config = config("tpn", 2, 6);
        FewShotTrainer.Outcome outcome = new FewShotTrainer(config, TRAIN, null, dir, QUIET, "synthetic").train(false);
        FewShotEvaluator.Accuracy direct = FewShotEvaluator.evaluate(outcome.model(), TEST, EpisodeSpec.fixed(3, 1, 2), 5, 9, null);
        FewShotModel reloaded = FewShotTrainer.loadModel(dir);
        FewShotEvaluator.Accuracy again = FewShotEvaluator.evaluate(reloaded, TEST, EpisodeSpec.fixed(3, 1, 2), 5, 9, null);
        assertArrayEquals(direct.perEpisode(), again.perEpisode());
        assertTrue(Files.exists(dir.resolve(TrainingCurves.TRAIN_LOG)));
        assertEquals(config, FewShotTrainer.readConfig(dir));
    }

    @Test
    void resumedRunEqualsUninterruptedRun(@TempDir Path dir) throws Exception {
        FewShotConfig full = config("protonet", 2, 4).withEpisodes(4);
        FewShotConfig half = full.withEpisodes(2);
        FewShotModel straight = new FewShotTrainer(full, TRAIN, null, dir.resolve("a"), QUIET, "s").train(false).model();
        new FewShotTrainer(half, TRAIN, null, dir.resolve("b"), QUIET, "s").train(false);
        FewShotModel resumed = new FewShotTrainer(full, TRAIN, null, dir.resolve("b"), QUIET, "s").train(true).model();
        Map<String, Tensor> a = straight.stateDict(), b = resumed.stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertTrue(Arrays.equals(a.get(name).toDoubleArray(), b.get(name).toDoubleArray()), name + " differs");
        }
        assertEquals(5, Files.readAllLines(dir.resolve("b").resolve(TrainingCurves.TRAIN_LOG)).size(), "header + 4 rows");
    }

    @Test
    void resumeWithOtherSettingsAndOverwriteAreRefused(@TempDir Path dir) throws Exception {
        new FewShotTrainer(config("protonet", 2, 1), TRAIN, null, dir, QUIET, "s").train(false);
        IllegalArgumentException overwrite = assertThrows(IllegalArgumentException.class,
                () -> new FewShotTrainer(config("protonet", 2, 1), TRAIN, null, dir, QUIET, "s").train(false));
        assertTrue(overwrite.getMessage().contains("--resume"), overwrite.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> new FewShotTrainer(config("protonet", 3, 2), TRAIN, null, dir, QUIET, "s").train(true));
        assertTrue(other.getMessage().contains("queries 2 -> 3"), other.getMessage());
    }

    @Test
    void tooManyWaysNamesTheNumbers() {
        FewShotConfig config = new FewShotConfig("protonet", 25, 1, 2, false, 8, 16, 1, 1e-3, 10, 1, 0, 20, 0.99, false, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FewShotTrainer(config, TRAIN, null, Path.of("unused"), QUIET, "s"));
        assertTrue(e.getMessage().contains("25") && e.getMessage().contains("20"), e.getMessage());
    }

    @Test
    void confidenceIntervalsFollowTheProtocol() {
        double[] acc = {0.5, 0.7, 0.6, 0.8};
        FewShotEvaluator.Accuracy a = FewShotEvaluator.summarize(acc);
        double mean = 0.65;
        double std = Math.sqrt((0.0225 + 0.0025 + 0.0025 + 0.0225) / 3);
        assertEquals(mean, a.mean(), 1e-12);
        assertEquals(1.96 * std / 2, a.ci95(), 1e-12);
        assertEquals(3.182446305284263 * std / 2, a.ci95T(), 1e-9);   // t(0.975, 3)
    }
}
