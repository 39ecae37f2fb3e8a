package io.github.grad4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The MxML commands end to end on real Omniglot data, with tiny learners and a few episodes. */
class FewShotMxmlCommandsTest {
    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Path small1() {
        String override = System.getProperty("grad4j.shared");
        Path root = override != null && !override.isBlank() ? Path.of(override) : Path.of("..", "shared");
        Path p = root.resolve("data").resolve("omniglot").resolve("images_background_small1.zip");
        assumeTrue(Files.exists(p), () -> "skipped: shared data not found at " + p.toAbsolutePath().normalize()
                + " (set -Dgrad4j.shared=/path/to/shared)");
        return p;
    }

    private static void trainLearner(Path data, Path out, String seed) {
        Result r = run("fewshot", "train", "--method", "protonet", "--data", data.toString(), "--way", "3", "--shot", "2",
                "--query", "2", "--episodes", "3", "--filters", "4", "--val-episodes", "0", "--seed", seed,
                "--out", out.toString());
        assertEquals(Main.OK, r.code(), r.err());
    }

    @Test
    void trainsTheWpnOverTrainedLearnersAndEvaluatesTheMixture(@TempDir Path dir) {
        Path data = small1();
        trainLearner(data, dir.resolve("a"), "1");
        trainLearner(data, dir.resolve("b"), "2");
        Path mxml = dir.resolve("mxml");
        Result train = run("fewshot", "train", "--method", "mxml", "--learners", dir.resolve("a") + "," + dir.resolve("b"),
                "--data", data + "#Greek+Latin," + data + "#Korean", "--way", "3", "--shot", "2", "--query", "2",
                "--pool-episodes", "4", "--epochs", "2", "--hidden", "4", "--out", mxml.toString());
        assertEquals(Main.OK, train.code(), train.err());
        assertTrue(Files.exists(mxml.resolve("mxml.json")) && Files.exists(mxml.resolve("wpn.safetensors")));
        assertTrue(train.out().contains("mean weights on"), train.out());

        Result eval = run("fewshot", "eval", "--model", mxml.toString(), "--data", data + "#Balinese", "--episodes", "3",
                "--out", dir.resolve("eval").toString());
        assertEquals(Main.OK, eval.code(), eval.err());
        assertTrue(eval.out().contains("MxML (WPN)") && eval.out().contains("uniform ensemble")
                && eval.out().contains("mean WPN weights [a, b]"), eval.out());
        assertTrue(Files.exists(dir.resolve("eval").resolve("eval.json")));
    }

    @Test
    void oneShotEpisodesAreRefusedWithTheReason(@TempDir Path dir) {
        Path data = small1();
        trainLearner(data, dir.resolve("a"), "1");
        Result r = run("fewshot", "train", "--method", "mxml", "--learners", dir.resolve("a").toString(),
                "--data", data.toString(), "--way", "3", "--shot", "1", "--query", "2", "--pool-episodes", "2",
                "--epochs", "1", "--out", dir.resolve("m").toString());
        assertEquals(Main.FAILURE, r.code());
        assertTrue(r.err().contains("at least 2 shots"), r.err());
    }

    @Test
    void unknownAlphabetIsNamed(@TempDir Path dir) {
        Path data = small1();
        trainLearner(data, dir.resolve("a"), "1");
        Result r = run("fewshot", "train", "--method", "mxml", "--learners", dir.resolve("a").toString(),
                "--data", data + "#Klingon", "--out", dir.resolve("m").toString());
        assertEquals(Main.FAILURE, r.code());
        assertTrue(r.err().contains("alphabet 'Klingon' is not in"), r.err());
    }
}
