package io.github.grad4j.experiments.meta;

import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.LinePlot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The logs of a few-shot training run and their plots: {@code train_log.csv} (one row per
 * episode: episode, loss, accuracy, lr), {@code validation.csv} (episode, accuracy, ci95) and the
 * PNGs {@code loss.png} (moving average) and {@code validation_accuracy.png} (with the 95% band).
 * Rows are kept in memory and the files rewritten whole, so a resumed run can drop rows past
 * its checkpoint.
 */
public final class TrainingCurves {
    public static final String TRAIN_LOG = "train_log.csv";
    public static final String VALIDATION_LOG = "validation.csv";
    /** Episodes averaged by the loss plot. */
    private static final int SMOOTHING = 50;

    private final List<double[]> trainRows = new ArrayList<>();
    private final List<double[]> validationRows = new ArrayList<>();

    public void addTraining(long episode, double loss, double accuracy, double learningRate) {
        trainRows.add(new double[]{episode, loss, accuracy, learningRate});
    }

    public void addValidation(long episode, double accuracy, double ci95) {
        validationRows.add(new double[]{episode, accuracy, ci95});
    }

    public List<double[]> trainingRows() {
        return List.copyOf(trainRows);
    }

    public List<double[]> validationRows() {
        return List.copyOf(validationRows);
    }

    /** Reads the logs of {@code folder} up to episode {@code lastEpisode} (for --resume); absent files are empty. */
    public static TrainingCurves read(Path folder, long lastEpisode) throws IOException {
        TrainingCurves curves = new TrainingCurves();
        readInto(folder.resolve(TRAIN_LOG), 4, lastEpisode, curves.trainRows);
        readInto(folder.resolve(VALIDATION_LOG), 3, lastEpisode, curves.validationRows);
        return curves;
    }

    private static void readInto(Path file, int columns, long lastEpisode, List<double[]> rows) throws IOException {
        if (!Files.exists(file)) return;
        try {
            for (double[] row : io.github.grad4j.report.CsvReader.numbers(file, columns)) if (row[0] <= lastEpisode) rows.add(row);
        } catch (IllegalArgumentException malformed) {
            throw new IOException(malformed.getMessage(), malformed);
        }
    }

    /** Writes both CSV files and, when there is anything to draw, both plots. */
    public void write(Path folder, String title) throws IOException {
        CsvWriter train = new CsvWriter("episode", "loss", "accuracy", "lr");
        for (double[] r : trainRows) train.row((long) r[0], r[1], r[2], r[3]);
        train.write(folder.resolve(TRAIN_LOG));
        CsvWriter validation = new CsvWriter("episode", "accuracy", "ci95");
        for (double[] r : validationRows) validation.row((long) r[0], r[1], r[2]);
        validation.write(folder.resolve(VALIDATION_LOG));
        if (trainRows.size() >= 2) {
            double[] x = new double[trainRows.size()], loss = new double[x.length];
            double window = 0;
            for (int i = 0; i < x.length; i++) {
                x[i] = trainRows.get(i)[0];
                window += trainRows.get(i)[1];
                if (i >= SMOOTHING) window -= trainRows.get(i - SMOOTHING)[1];
                loss[i] = window / Math.min(i + 1, SMOOTHING);
            }
            new LinePlot().title(title + ": training loss (moving average of " + SMOOTHING + " episodes)")
                    .xLabel("episode").yLabel("loss").series("loss", x, loss).writePng(folder.resolve("loss.png"));
        }
        if (validationRows.size() >= 2) {
            int n = validationRows.size();
            double[] x = new double[n], accuracy = new double[n], low = new double[n], high = new double[n];
            for (int i = 0; i < n; i++) {
                double[] r = validationRows.get(i);
                x[i] = r[0];
                accuracy[i] = 100 * r[1];
                low[i] = 100 * (r[1] - r[2]);
                high[i] = 100 * (r[1] + r[2]);
            }
            new LinePlot().title(title + ": validation accuracy (95% CI)").xLabel("episode").yLabel("accuracy (%)")
                    .series("validation", x, accuracy).band("validation", low, high)
                    .writePng(folder.resolve("validation_accuracy.png"));
        }
    }
}
