package io.github.grad4j.experiments.meta.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Lake et al.'s (2015) one-shot classification benchmark: a set of runs, each a 20-way 1-shot task
 * within one alphabet. On disk every run is a folder {@code runNN/} with {@code training/classNN.png}
 * (one image per class), {@code test/itemNN.png} and {@code class_labels.txt}, whose lines read
 * {@code runNN/test/itemYY.png runNN/training/classZZ.png} (paths relative to the folder holding the
 * runs).
 *
 * <p>Images are decoded like {@link OmniglotLoader} does: inverted (ink = 1.0, background = 0.0) and
 * area-averaged to {@code imageSize x imageSize}.
 *
 * <p>The score is the error rate over all test items of all runs (Lake's 400 items for 20 runs).
 */
public final class LakeOneShotRuns {

    private static final Pattern RUN_FOLDER = Pattern.compile("run\\d+");
    private static final String LABELS_FILE = "class_labels.txt";

    /**
     * One run. Class index {@code c} means the training image {@code trainingImages[c]}, i.e. the
     * c-th training file in name order ({@code class01.png} is class 0).
     *
     * @param name                 folder name, e.g. {@code run01}
     * @param trainingImages       one image per class
     * @param testImages           the items to classify, in the order of {@code class_labels.txt}
     * @param correctClassIndices  for each test item, the index of its class
     * @param trainingFiles        training file names, parallel to {@code trainingImages}
     * @param testFiles            test file names, parallel to {@code testImages}
     */
    public record Run(String name, float[][] trainingImages, float[][] testImages, int[] correctClassIndices,
                      List<String> trainingFiles, List<String> testFiles) {

        public int classCount() {
            return trainingImages.length;
        }

        public int testItemCount() {
            return testImages.length;
        }
    }

    /** A one-shot classifier: given one image per class and the test items, predict a class index per item. */
    @FunctionalInterface
    public interface Classifier {
        int[] classify(float[][] trainingImages, float[][] testImages);
    }

    /** Errors of one run. */
    public record RunResult(String run, int errors, int items) {
        public double errorRate() {
            return (double) errors / items;
        }
    }

    /**
     * Result over all runs.
     *
     * @param errorRate misclassified test items / all test items, over all runs
     * @param perRun    the per-run errors in run order
     */
    public record Evaluation(double errorRate, int errors, int items, List<RunResult> perRun) {
    }

    private final Path folder;
    private final int imageSize;
    private final List<Run> runs;

    private LakeOneShotRuns(Path folder, int imageSize, List<Run> runs) {
        this.folder = folder;
        this.imageSize = imageSize;
        this.runs = List.copyOf(runs);
    }

    /** Loads with 28x28 images. */
    public static LakeOneShotRuns load(Path folderWithRuns) throws IOException {
        return load(folderWithRuns, OmniglotLoader.DEFAULT_SIZE);
    }

    /**
     * Loads every {@code runNN} folder inside {@code folderWithRuns}, in name order.
     *
     * @param imageSize output side length; {@link OmniglotLoader#ORIGINAL_SIZE} keeps the 105x105 originals
     * @throws NoSuchFileException    if the folder, a {@code class_labels.txt} or a referenced image is missing
     * @throws DatasetFormatException for no run folders, a malformed label line (file and line number
     *                                given), or an unreadable image
     */
    public static LakeOneShotRuns load(Path folderWithRuns, int imageSize) throws IOException {
        if (imageSize <= 0) {
            throw new IllegalArgumentException("imageSize must be positive, got " + imageSize);
        }
        if (!Files.isDirectory(folderWithRuns)) {
            throw new NoSuchFileException(folderWithRuns.toString(), null,
                    "folder with Lake one-shot runs (runNN/ folders) not found");
        }
        List<Path> runFolders;
        try (Stream<Path> children = Files.list(folderWithRuns)) {
            runFolders = children
                    .filter(p -> Files.isDirectory(p) && RUN_FOLDER.matcher(p.getFileName().toString()).matches())
                    .sorted()
                    .toList();
        }
        if (runFolders.isEmpty()) {
            throw new DatasetFormatException("no runNN folders found in " + folderWithRuns);
        }
        List<Run> runs = new ArrayList<>();
        for (Path runFolder : runFolders) {
            runs.add(loadRun(folderWithRuns, runFolder, imageSize));
        }
        return new LakeOneShotRuns(folderWithRuns, imageSize, runs);
    }

    private static Run loadRun(Path base, Path runFolder, int imageSize) throws IOException {
        String runName = runFolder.getFileName().toString();
        Path labelsFile = runFolder.resolve(LABELS_FILE);
        if (!Files.isRegularFile(labelsFile)) {
            throw new NoSuchFileException(labelsFile.toString(), null, "run " + runName + " has no " + LABELS_FILE);
        }
        Path trainingFolder = runFolder.resolve("training");
        if (!Files.isDirectory(trainingFolder)) {
            throw new NoSuchFileException(trainingFolder.toString(), null, "run " + runName + " has no training/ folder");
        }
        List<String> trainingFiles;
        try (Stream<Path> files = Files.list(trainingFolder)) {
            trainingFiles = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".png") && !n.startsWith("."))
                    .sorted()
                    .toList();
        }
        if (trainingFiles.isEmpty()) {
            throw new DatasetFormatException("run " + runName + ": no .png images in " + trainingFolder);
        }
        Map<String, Integer> classIndexOfTrainingPath = new HashMap<>();
        for (int i = 0; i < trainingFiles.size(); i++) {
            classIndexOfTrainingPath.put(runName + "/training/" + trainingFiles.get(i), i);
        }

        List<String> testPaths = new ArrayList<>();
        List<Integer> correct = new ArrayList<>();
        Set<String> seenTests = new HashSet<>();
        List<String> lines = Files.readAllLines(labelsFile);
        for (int lineNumber = 1; lineNumber <= lines.size(); lineNumber++) {
            String line = lines.get(lineNumber - 1).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = labelsFile + " line " + lineNumber + " ('" + line + "')";
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw new DatasetFormatException(where + ": expected two paths '"
                        + runName + "/test/itemYY.png " + runName + "/training/classZZ.png', found "
                        + fields.length + " field(s)");
            }
            String testPath = fields[0].replace('\\', '/');
            String trainingPath = fields[1].replace('\\', '/');
            if (!testPath.startsWith(runName + "/test/")) {
                throw new DatasetFormatException(where + ": first path must lie in " + runName + "/test/");
            }
            if (!trainingPath.startsWith(runName + "/training/")) {
                throw new DatasetFormatException(where + ": second path must lie in " + runName + "/training/");
            }
            Integer classIndex = classIndexOfTrainingPath.get(trainingPath);
            if (classIndex == null) {
                throw new NoSuchFileException(base.resolve(trainingPath).toString(), null,
                        "training image referenced at " + where + " is missing");
            }
            if (!seenTests.add(testPath)) {
                throw new DatasetFormatException(where + ": test item " + testPath + " is labelled twice");
            }
            if (!Files.isRegularFile(base.resolve(testPath))) {
                throw new NoSuchFileException(base.resolve(testPath).toString(), null,
                        "test image referenced at " + where + " is missing");
            }
            testPaths.add(testPath);
            correct.add(classIndex);
        }
        if (testPaths.isEmpty()) {
            throw new DatasetFormatException(labelsFile + " contains no label lines");
        }

        float[][] trainingImages = new float[trainingFiles.size()][];
        for (int i = 0; i < trainingFiles.size(); i++) {
            trainingImages[i] = readImage(trainingFolder.resolve(trainingFiles.get(i)), imageSize);
        }
        float[][] testImages = new float[testPaths.size()][];
        List<String> testFiles = new ArrayList<>();
        for (int i = 0; i < testPaths.size(); i++) {
            testImages[i] = readImage(base.resolve(testPaths.get(i)), imageSize);
            testFiles.add(testPaths.get(i).substring(testPaths.get(i).lastIndexOf('/') + 1));
        }
        int[] correctIndices = correct.stream().mapToInt(Integer::intValue).toArray();
        return new Run(runName, trainingImages, testImages, correctIndices, trainingFiles, testFiles);
    }

    private static float[] readImage(Path file, int imageSize) throws IOException {
        InkImageDecoder.InkImage image = InkImageDecoder.decode(Files.readAllBytes(file), file.toString());
        return Pixels.resizeAreaAverage(image.ink(), image.height(), image.width(), imageSize, imageSize);
    }

    /** The runs, in folder-name order. */
    public List<Run> runs() {
        return runs;
    }

    public Path folder() {
        return folder;
    }

    public int imageSize() {
        return imageSize;
    }

    /** Total number of test items over all runs. */
    public int testItemCount() {
        return runs.stream().mapToInt(Run::testItemCount).sum();
    }

    /**
     * Runs the classifier on every run and scores it. The classifier receives copies of the images,
     * so it cannot corrupt later runs by modifying its input.
     *
     * @throws IllegalStateException if the classifier returns the wrong number of predictions or a
     *                               class index outside 0..classes-1 (a bug, not a misclassification)
     */
    public Evaluation evaluate(Classifier classifier) {
        Objects.requireNonNull(classifier, "classifier");
        List<RunResult> perRun = new ArrayList<>();
        int errors = 0;
        int items = 0;
        for (Run run : runs) {
            int[] predicted = classifier.classify(deepCopy(run.trainingImages()), deepCopy(run.testImages()));
            if (predicted == null || predicted.length != run.testItemCount()) {
                throw new IllegalStateException("classifier returned "
                        + (predicted == null ? "null" : predicted.length + " predictions")
                        + " for " + run.name() + ", expected " + run.testItemCount());
            }
            int runErrors = 0;
            for (int i = 0; i < predicted.length; i++) {
                if (predicted[i] < 0 || predicted[i] >= run.classCount()) {
                    throw new IllegalStateException("classifier predicted class " + predicted[i] + " for "
                            + run.name() + " item " + i + ", valid classes are 0.." + (run.classCount() - 1));
                }
                if (predicted[i] != run.correctClassIndices()[i]) {
                    runErrors++;
                }
            }
            perRun.add(new RunResult(run.name(), runErrors, run.testItemCount()));
            errors += runErrors;
            items += run.testItemCount();
        }
        return new Evaluation((double) errors / items, errors, items, perRun);
    }

    private static float[][] deepCopy(float[][] images) {
        float[][] copy = new float[images.length][];
        for (int i = 0; i < images.length; i++) {
            copy[i] = images[i].clone();
        }
        return copy;
    }
}
