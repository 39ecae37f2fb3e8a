package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LakeOneShotRunsTest {

    private static Path sampleRuns() {
        return SharedTestData.requireExisting(SharedTestData.omniglot("one-shot-runs-sample"));
    }

    @Test
    void sampleHasTwoRunsOfTwentyClassesAndTwentyItems() throws IOException {
        LakeOneShotRuns runs = LakeOneShotRuns.load(sampleRuns());
        assertEquals(List.of("run01", "run02"), runs.runs().stream().map(LakeOneShotRuns.Run::name).toList());
        for (LakeOneShotRuns.Run run : runs.runs()) {
            assertEquals(20, run.classCount());
            assertEquals(20, run.testItemCount());
            assertEquals(28 * 28, run.trainingImages()[0].length);
            assertEquals(28 * 28, run.testImages()[0].length);
            for (int label : run.correctClassIndices()) {
                assertTrue(label >= 0 && label < 20, "label " + label);
            }
        }
        assertEquals(40, runs.testItemCount());
    }

    @Test
    void labelsMatchTheLinesOfClassLabelsTxt() throws IOException {
        Path folder = sampleRuns();
        LakeOneShotRuns runs = LakeOneShotRuns.load(folder);
        for (LakeOneShotRuns.Run run : runs.runs()) {
            List<String> lines = Files.readAllLines(folder.resolve(run.name()).resolve("class_labels.txt")).stream()
                    .filter(l -> !l.isBlank()).toList();
            assertEquals(lines.size(), run.testItemCount());
            for (int i = 0; i < lines.size(); i++) {
                String[] fields = lines.get(i).trim().split("\\s+");
                // "runXX/training/classZZ.png": class ZZ is index ZZ-1 since training files sort as class01..
                String classFile = fields[1].substring(fields[1].lastIndexOf('/') + 1);
                int expected = Integer.parseInt(classFile.replaceAll("\\D", "")) - 1;
                assertEquals(expected, run.correctClassIndices()[i], run.name() + " line " + (i + 1));
                assertEquals(fields[0].substring(fields[0].lastIndexOf('/') + 1), run.testFiles().get(i));
                assertEquals(classFile, run.trainingFiles().get(run.correctClassIndices()[i]));
            }
        }
    }

    @Test
    void oracleScoresZeroAndConstantGuessScoresTheFractionOfOtherClasses() throws IOException {
        LakeOneShotRuns runs = LakeOneShotRuns.load(sampleRuns());

        // The oracle knows the answers; evaluate() visits runs in order.
        Iterator<LakeOneShotRuns.Run> expectedRuns = runs.runs().iterator();
        LakeOneShotRuns.Evaluation oracle = runs.evaluate(
                (training, test) -> expectedRuns.next().correctClassIndices().clone());
        assertEquals(0.0, oracle.errorRate());
        assertEquals(40, oracle.items());

        int guessed = 3;
        LakeOneShotRuns.Evaluation constant = runs.evaluate((training, test) -> {
            int[] predictions = new int[test.length];
            Arrays.fill(predictions, guessed);
            return predictions;
        });
        int expectedErrors = 0;
        for (int r = 0; r < runs.runs().size(); r++) {
            LakeOneShotRuns.Run run = runs.runs().get(r);
            int runErrors = (int) Arrays.stream(run.correctClassIndices()).filter(label -> label != guessed).count();
            assertEquals(runErrors, constant.perRun().get(r).errors(), run.name());
            assertEquals(run.name(), constant.perRun().get(r).run());
            expectedErrors += runErrors;
        }
        assertEquals(expectedErrors, constant.errors());
        assertEquals(expectedErrors / 40.0, constant.errorRate(), 1e-12);
    }

    // ---- synthetic runs for error handling ----

    /** Writes runs/run01 with 3 classes and 3 test items; item k belongs to class (k+1) mod 3. */
    private static Path writeSyntheticRun(Path temp) throws IOException {
        Path run = temp.resolve("runs").resolve("run01");
        Files.createDirectories(run.resolve("training"));
        Files.createDirectories(run.resolve("test"));
        StringBuilder labels = new StringBuilder();
        for (int k = 1; k <= 3; k++) {
            Files.write(run.resolve("training").resolve("class0" + k + ".png"),
                    TestImages.pngWithBlackRectangle(105, 10 * k, 0, 15, 15));
            Files.write(run.resolve("test").resolve("item0" + k + ".png"),
                    TestImages.pngWithBlackRectangle(105, 10 * k, 5, 15, 15));
            labels.append("run01/test/item0").append(k).append(".png run01/training/class0")
                    .append(k % 3 + 1).append(".png\n");
        }
        Files.writeString(run.resolve("class_labels.txt"), labels);
        return temp.resolve("runs");
    }

    @Test
    void syntheticRunParsesLabelsAndKeepsOriginalSizeOnRequest(@TempDir Path temp) throws IOException {
        LakeOneShotRuns runs = LakeOneShotRuns.load(writeSyntheticRun(temp), OmniglotLoader.ORIGINAL_SIZE);
        LakeOneShotRuns.Run run = runs.runs().get(0);
        assertEquals(List.of(1, 2, 0), Arrays.stream(run.correctClassIndices()).boxed().toList());
        assertEquals(105 * 105, run.testImages()[0].length);
        // Inverted: the black square is ink 1.0, paper 0.0.
        assertEquals(1f, run.trainingImages()[0][10 * 105]);
        assertEquals(0f, run.trainingImages()[0][0]);
    }

    @Test
    void missingClassLabelsIsNamed(@TempDir Path temp) throws IOException {
        Path folder = writeSyntheticRun(temp);
        Files.delete(folder.resolve("run01").resolve("class_labels.txt"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> LakeOneShotRuns.load(folder));
        assertTrue(e.getMessage().contains("class_labels.txt"), e.getMessage());
    }

    @Test
    void malformedLineIsNamedWithItsNumber(@TempDir Path temp) throws IOException {
        Path folder = writeSyntheticRun(temp);
        Path labels = folder.resolve("run01").resolve("class_labels.txt");
        List<String> lines = new java.util.ArrayList<>(Files.readAllLines(labels));
        lines.set(1, "run01/test/item02.png");
        Files.write(labels, lines);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> LakeOneShotRuns.load(folder));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertTrue(e.getMessage().contains("class_labels.txt"), e.getMessage());
    }

    @Test
    void missingTestImageIsNamed(@TempDir Path temp) throws IOException {
        Path folder = writeSyntheticRun(temp);
        Files.delete(folder.resolve("run01").resolve("test").resolve("item03.png"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> LakeOneShotRuns.load(folder));
        assertTrue(e.getMessage().contains("item03.png"), e.getMessage());
    }

    @Test
    void missingTrainingImageIsNamed(@TempDir Path temp) throws IOException {
        Path folder = writeSyntheticRun(temp);
        Files.delete(folder.resolve("run01").resolve("training").resolve("class02.png"));
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> LakeOneShotRuns.load(folder));
        assertTrue(e.getMessage().contains("class02.png"), e.getMessage());
    }

    @Test
    void folderWithoutRunsIsReported(@TempDir Path temp) {
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> LakeOneShotRuns.load(temp));
        assertTrue(e.getMessage().contains("runNN"), e.getMessage());
        assertThrows(NoSuchFileException.class, () -> LakeOneShotRuns.load(temp.resolve("absent")));
    }

    @Test
    void classifierReturningWrongCountIsAnError(@TempDir Path temp) throws IOException {
        LakeOneShotRuns runs = LakeOneShotRuns.load(writeSyntheticRun(temp));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> runs.evaluate((training, test) -> new int[1]));
        assertTrue(e.getMessage().contains("run01"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> runs.evaluate((training, test) -> new int[] {0, 1, 7}));
    }
}
