package io.github.grad4j.cli;

import io.github.grad4j.experiments.meta.maml.MetaEvaluation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class MetaLearningRunnerTest {

    @Test
    void confidenceIntervalIsOnePointNineSixStandardErrors() {
        // mean 0.7, sample standard deviation 0.2: half-width 1.96 * 0.2 / sqrt(3)
        MetaEvaluation.Summary s = MetaEvaluation.summarize("x", new double[]{0.5, 0.7, 0.9});
        assertEquals(0.7, s.meanAccuracy(), 1e-12);
        assertEquals(1.96 * 0.2 / Math.sqrt(3), s.ci95(), 1e-12);
    }

    @Test
    void summaryByShotModeKeepsOnlyThatModesTasks() {
        MetaEvaluation.Summary all = new MetaEvaluation.Summary("x", 5, 0.6, 0.1, new double[]{0.5, 0.9, 0.7, 0.2, 0.4},
                new String[]{"A", "B", "A", "B", "A"});
        MetaEvaluation.Summary a = all.ofShotMode("A");
        assertEquals(3, a.tasks());
        assertEquals((0.5 + 0.7 + 0.4) / 3, a.meanAccuracy(), 1e-12);
        assertEquals(0.55, all.ofShotMode("B").meanAccuracy(), 1e-12);
        assertEquals(null, all.ofShotMode("C"), "no task of that mode: no interval");
    }

    @Test
    void unknownMethodAndMisplacedAblationAreUsageErrors() {
        assertThrows(UsageException.class, () -> MetaLearningRunner.train(new String[]{"--method", "reptile"}, quiet()));
        assertThrows(UsageException.class, () -> MetaLearningRunner.train(new String[]{"--method", "maml", "--no-z"}, quiet()));
    }

    /** A few seconds: two meta-batches of a 4-filter Bayesian-TAML on real Omniglot, then 2 test tasks each set. */
    @Test
    void trainRunsEndToEndOnOmniglotAndWritesItsReports(@TempDir Path out) throws Exception {
        String shared = System.getProperty("grad4j.shared");
        Path omniglot = (shared == null || shared.isBlank() ? Path.of("..", "shared") : Path.of(shared)).resolve("data/omniglot");
        assumeTrue(Files.exists(omniglot.resolve("images_background_small1.zip")),
                "skipped: shared Omniglot data not found at " + omniglot.toAbsolutePath().normalize()
                        + " (set -Dgrad4j.shared=/path/to/shared)");
        String fashion = Files.exists(Path.of("/usr/share/datasets/fashion-mnist")) ? "/usr/share/datasets/fashion-mnist" : "none";
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        int rc = MetaLearningRunner.train(new String[]{"--method", "btaml", "--omniglot", omniglot.toString(),
                "--fashion-mnist", fashion, "--filters", "4", "--ways", "3", "--max-shot", "2", "--queries", "1",
                "--inner-steps", "1", "--test-inner-steps", "1", "--test-samples", "2", "--meta-batch", "1",
                "--iterations", "2", "--test-tasks", "2", "--out", out.toString()},
                new PrintStream(text, true, StandardCharsets.UTF_8));
        assertEquals(Main.OK, rc, text.toString(StandardCharsets.UTF_8));
        // small2 shares Greek and Latin with small1: they must not be meta-test classes
        assertTrue(text.toString(StandardCharsets.UTF_8).contains("leaving out the alphabets Greek, Latin"),
                text.toString(StandardCharsets.UTF_8));
        assertTrue(Files.exists(out.resolve("meta_parameters.safetensors")));
        List<String> summary = Files.readAllLines(out.resolve("meta_test.csv"));
        assertEquals(fashion.equals("none") ? 1 : 2, summary.stream().filter(l -> l.contains(",all,")).count(), summary.toString());
        assertEquals(1 + (fashion.equals("none") ? 1 : 2) * 2, Files.readAllLines(out.resolve("test_tasks.csv")).size());
        // 2 tasks x 3 classes of omega rows per test set, 2 tasks x 5 layers of gamma rows
        int sets = fashion.equals("none") ? 1 : 2;
        assertEquals(1 + sets * 2 * 3, Files.readAllLines(out.resolve("omega_by_class_size.csv")).size());
        assertEquals(1 + sets * 2 * 5, Files.readAllLines(out.resolve("gamma_by_task_size.csv")).size());
        assertEquals(3, Files.readAllLines(out.resolve("train.csv")).size());
        assertTrue(Files.exists(out.resolve("gamma-fashion-mnist.png")) || fashion.equals("none"));
        try (var pngs = Files.list(out)) {
            assertEquals(2 * sets, pngs.map(p -> p.getFileName().toString())
                    .filter(n -> (n.startsWith("gamma-") || n.startsWith("omega-")) && n.endsWith(".png")).count(),
                    "gamma and omega plot per test set");
        }
        assertTrue(Files.exists(out.resolve("train.png")));
        assertTrue(Files.exists(out.resolve(MetaLearningRunner.TRAINING_CHECKPOINT)));

        // the checkpoint reloads into eval, which must reproduce train's meta-test numbers (same seeds)
        Path evalOut = out.resolve("eval");
        int rcEval = MetaLearningRunner.eval(new String[]{"--method", "btaml", "--omniglot", omniglot.toString(),
                "--fashion-mnist", fashion, "--filters", "4", "--ways", "3", "--max-shot", "2", "--queries", "1",
                "--test-inner-steps", "1", "--test-samples", "2", "--test-tasks", "2", "--dtype", "float32",
                "--checkpoint", out.resolve("meta_parameters.safetensors").toString(), "--out", evalOut.toString()}, quiet());
        assertEquals(Main.OK, rcEval);
        assertEquals(summary, Files.readAllLines(evalOut.resolve("meta_test.csv")));
    }

    /** Stopping after 2 meta-batches and resuming to 4 gives the same meta-parameters and log as 4 in one go. */
    @Test
    void resumedTrainingEqualsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Path omniglot = sharedOmniglot();
        assumeTrue(Files.exists(omniglot.resolve("images_background_small1.zip")), "skipped: shared Omniglot data not found");
        String[] common = {"--method", "btaml", "--omniglot", omniglot.toString(), "--fashion-mnist", "none", "--filters", "4",
                "--ways", "3", "--max-shot", "2", "--queries", "1", "--inner-steps", "1", "--meta-batch", "2",
                "--test-tasks", "0", "--checkpoint-every", "1"};
        Path once = dir.resolve("once"), twice = dir.resolve("twice");
        assertEquals(Main.OK, MetaLearningRunner.train(concat(common, "--iterations", "4", "--out", once.toString()), quiet()));
        assertEquals(Main.OK, MetaLearningRunner.train(concat(common, "--iterations", "2", "--out", twice.toString()), quiet()));
        // the run exists: starting again without --resume is refused, and so is resuming with other settings
        IllegalArgumentException exists = assertThrows(IllegalArgumentException.class,
                () -> MetaLearningRunner.train(concat(common, "--iterations", "4", "--out", twice.toString()), quiet()));
        assertTrue(exists.getMessage().contains("--resume"), exists.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> MetaLearningRunner.train(
                concat(common, "--iterations", "4", "--outer-lr", "0.01", "--resume", "--out", twice.toString()), quiet()));
        assertTrue(other.getMessage().contains("other settings"), other.getMessage());
        assertEquals(Main.OK, MetaLearningRunner.train(concat(common, "--iterations", "4", "--resume", "--out", twice.toString()), quiet()));

        var a = io.github.grad4j.io.SafeTensors.load(once.resolve("meta_parameters.safetensors"));
        var b = io.github.grad4j.io.SafeTensors.load(twice.resolve("meta_parameters.safetensors"));
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) org.junit.jupiter.api.Assertions.assertArrayEquals(a.get(k).toDoubleArray(), b.get(k).toDoubleArray(), 0.0, k);
        List<String> logA = Files.readAllLines(once.resolve("train.csv")), logB = Files.readAllLines(twice.resolve("train.csv"));
        assertEquals(5, logB.size());
        for (int i = 0; i < logA.size(); i++) {
            assertEquals(withoutSeconds(logA.get(i)), withoutSeconds(logB.get(i)), "train.csv line " + (i + 1));
        }
        assertTrue(Files.exists(twice.resolve("train.png")));
    }

    private static String withoutSeconds(String csvLine) {
        return csvLine.substring(0, csvLine.lastIndexOf(','));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static Path sharedOmniglot() {
        String shared = System.getProperty("grad4j.shared");
        return (shared == null || shared.isBlank() ? Path.of("..", "shared") : Path.of(shared)).resolve("data/omniglot");
    }

    private static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
