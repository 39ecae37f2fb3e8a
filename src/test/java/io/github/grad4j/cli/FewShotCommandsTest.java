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

class FewShotCommandsTest {
    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Path shared(String relative) {
        String override = System.getProperty("grad4j.shared");
        Path root = override != null && !override.isBlank() ? Path.of(override) : Path.of("..", "shared");
        Path p = root.resolve("data").resolve("omniglot").resolve(relative);
        assumeTrue(Files.exists(p), () -> "skipped: shared data not found at " + p.toAbsolutePath().normalize()
                + " (set -Dgrad4j.shared=/path/to/shared)");
        return p;
    }

    @Test
    void missingTrainingDataNamesThePath(@TempDir Path dir) {
        Path missing = dir.resolve("no-such-omniglot.zip");
        Result r = run("fewshot", "train", "--method", "protonet", "--data", missing.toString(), "--out", dir.resolve("o").toString());
        assertEquals(Main.FAILURE, r.code());
        assertTrue(r.err().contains(missing.toAbsolutePath().toString()) && !r.err().contains("\tat "), r.err());
    }

    @Test
    void unknownMethodIsAUsageError(@TempDir Path dir) {
        Result r = run("fewshot", "train", "--method", "reptile", "--data", "x", "--out", dir.toString());
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().contains("--method must be protonet, tpn, maml, metasgd, btaml or mxml, got 'reptile'"), r.err());
    }

    @Test
    void missingModelFolderIsNamed(@TempDir Path dir) {
        Path missing = dir.resolve("no-model");
        Result r = run("fewshot", "eval", "--model", missing.toString(), "--data", "x");
        assertEquals(Main.FAILURE, r.code());
        assertTrue(r.err().contains(missing.toAbsolutePath().toString()), r.err());
    }

    @Test
    void evalNeedsExactlyOneTestSet(@TempDir Path dir) {
        Result r = run("fewshot", "eval", "--model", dir.toString());
        assertEquals(Main.USAGE, r.code());
        assertTrue(r.err().contains("exactly one of --data"), r.err());
    }

    @Test
    void moreWaysThanClassesNamesTheNumbers(@TempDir Path dir) {
        Path data = shared("images_background_small1.zip");
        Result r = run("fewshot", "train", "--method", "protonet", "--data", data.toString(), "--way", "200",
                "--val-episodes", "0", "--out", dir.resolve("o").toString());
        assertEquals(Main.FAILURE, r.code());
        assertTrue(r.err().contains("200-way episodes need 200 classes") && r.err().contains("has only 136"), r.err());
    }

    @Test
    void trainThenEvalOnRealDataAndLakeRuns(@TempDir Path dir) {
        Path data = shared("images_background_small1.zip");
        Path runs = shared("one-shot-runs-sample");
        Path model = dir.resolve("model");
        Result train = run("fewshot", "train", "--method", "tpn", "--data", data.toString(), "--filters", "4",
                "--episodes", "2", "--query", "2", "--val-every", "2", "--val-episodes", "2", "--out", model.toString());
        assertEquals(Main.OK, train.code(), train.err());
        assertTrue(train.out().contains("done: 2 episodes"), train.out());
        Result eval = run("fewshot", "eval", "--model", model.toString(), "--data", data.toString(), "--episodes", "3",
                "--query", "2");
        assertEquals(Main.OK, eval.code(), eval.err());
        assertTrue(eval.out().contains("over 3 episodes"), eval.out());
        // the alphabets small1 shares with small2 can be left out of a test set
        Result novel = run("fewshot", "eval", "--model", model.toString(), "--data", data.toString(), "--episodes", "2",
                "--query", "2", "--exclude-alphabets", "Greek,Latin");
        assertEquals(Main.OK, novel.code(), novel.err());
        assertTrue(novel.out().contains("without Greek, Latin [3 groups"), novel.out());
        Result typo = run("fewshot", "eval", "--model", model.toString(), "--data", data.toString(), "--episodes", "2",
                "--exclude-alphabets", "Greekk");
        assertEquals(Main.USAGE, typo.code(), typo.out());
        assertTrue(typo.err().contains("no alphabet 'Greekk'") && typo.err().contains("Korean"), typo.err());
        Result lake = run("fewshot", "eval", "--model", model.toString(), "--lake-runs", runs.toString());
        assertEquals(Main.OK, lake.code(), lake.err());
        assertTrue(lake.out().contains("(2 runs, 40 items)"), lake.out());
    }
}
