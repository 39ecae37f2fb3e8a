package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.report.CsvReader;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.report.ScatterPlot;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bayesian-TAML's balancing variables over meta-test tasks, for the paper's two claims: exp(gamma_l)
 * grows with the task (support) size, so larger tasks take larger inner steps; softmax(omega_c)
 * falls with the class size, so small classes weigh more in the inner loss. Keeps the posterior
 * means {@link MetaEvaluation} records, and writes them as CSV, as PNG scatter plots (one point per
 * task and layer, or per class) and as Spearman rank correlations, which say how monotone each
 * trend is without assuming a shape.
 */
public final class BalancingLog {
    private final CsvWriter omegaRows = new CsvWriter("dataset", "task", "shot_mode", "class", "shots", "softmax_omega");
    private final CsvWriter gammaRows = new CsvWriter("dataset", "task", "shot_mode", "support_size", "layer", "exp_gamma");
    /** dataset -> layer -> (support size, exp gamma) points. */
    private final Map<String, Map<Integer, List<double[]>>> gamma = new LinkedHashMap<>();
    /** dataset -> shot mode -> (shots, softmax omega) points. */
    private final Map<String, Map<String, List<double[]>>> omega = new LinkedHashMap<>();

    void omega(String dataset, int task, String shotMode, int classIndex, int shots, double softmaxOmega) {
        omegaRows.row(dataset, task, shotMode, classIndex, shots, softmaxOmega);
        omega.computeIfAbsent(dataset, k -> new LinkedHashMap<>()).computeIfAbsent(shotMode, k -> new ArrayList<>())
                .add(new double[]{shots, softmaxOmega});
    }

    void gamma(String dataset, int task, String shotMode, int supportSize, int layer, double expGamma) {
        gammaRows.row(dataset, task, shotMode, supportSize, layer, expGamma);
        gamma.computeIfAbsent(dataset, k -> new LinkedHashMap<>()).computeIfAbsent(layer, k -> new ArrayList<>())
                .add(new double[]{supportSize, expGamma});
    }

    public boolean isEmpty() {
        return omegaRows.rowCount() == 0 && gammaRows.rowCount() == 0;
    }

    /**
     * Spearman's rank correlation of exp(gamma_l) with the support size over the tasks of
     * {@code dataset}, per layer (NaN where a layer's values or sizes do not vary).
     */
    public Map<Integer, Double> gammaSizeCorrelation(String dataset) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, List<double[]>> e : gamma.getOrDefault(dataset, Map.of()).entrySet()) {
            out.put(e.getKey(), spearman(e.getValue()));
        }
        return out;
    }

    /** Spearman's rank correlation of softmax(omega_c) with the class's shots, per shot mode of {@code dataset}. */
    public Map<String, Double> omegaShotCorrelation(String dataset) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<double[]>> e : omega.getOrDefault(dataset, Map.of()).entrySet()) {
            out.put(e.getKey(), spearman(e.getValue()));
        }
        return out;
    }

    /** Datasets with recorded values, in recording order. */
    public List<String> datasets() {
        List<String> out = new ArrayList<>(gamma.keySet());
        for (String d : omega.keySet()) if (!out.contains(d)) out.add(d);
        return out;
    }

    /**
     * omega_by_class_size.csv, gamma_by_task_size.csv and, per dataset, gamma-DATASET.png and
     * omega-DATASET.png in {@code dir} (only what was recorded).
     */
    public void write(Path dir) throws IOException {
        if (omegaRows.rowCount() > 0) omegaRows.write(dir.resolve("omega_by_class_size.csv"));
        if (gammaRows.rowCount() > 0) gammaRows.write(dir.resolve("gamma_by_task_size.csv"));
        writePlots(dir, "");
    }

    /** Only the plots, each file name starting with {@code prefix} (e.g. a run's name). */
    public void writePlots(Path dir, String prefix) throws IOException {
        for (String dataset : datasets()) {
            String file = dataset.replaceAll("[^A-Za-z0-9_.-]", "_");
            Map<Integer, List<double[]>> layers = gamma.get(dataset);
            if (layers != null) {
                // log scale: the head's step multiplier can be ten times the convolutions'
                scatter("Bayesian-TAML exp(gamma) per layer vs task size (" + dataset + ")", "support set size",
                        "exp(gamma), posterior mean (log scale)", "layer ", layers, gammaSizeCorrelation(dataset))
                        .logY(true).writePng(dir.resolve(prefix + "gamma-" + file + ".png"));
            }
            Map<String, List<double[]>> modes = omega.get(dataset);
            if (modes != null) {
                scatter("Bayesian-TAML softmax(omega) vs class size (" + dataset + ")", "shots of the class",
                        "softmax(omega), posterior mean", "", modes, omegaShotCorrelation(dataset))
                        .writePng(dir.resolve(prefix + "omega-" + file + ".png"));
            }
        }
    }

    /** One series per key (layer or shot mode), labelled with its rank correlation. */
    private static <K> ScatterPlot scatter(String title, String xLabel, String yLabel, String prefix,
                                           Map<K, List<double[]>> series, Map<K, Double> rho) {
        ScatterPlot plot = new ScatterPlot().size(760, 480).title(title).xLabel(xLabel).yLabel(yLabel);
        for (Map.Entry<K, List<double[]>> e : series.entrySet()) {
            plot.series(String.format("%s%s (rho %.2f)", prefix, e.getKey(), rho.get(e.getKey())),
                    column(e.getValue(), 0), column(e.getValue(), 1));
        }
        return plot;
    }

    /**
     * The balancing variables a meta-test wrote into {@code runDir} (omega_by_class_size.csv,
     * gamma_by_task_size.csv; either may be absent), e.g. to plot or correlate them again.
     */
    public static BalancingLog read(Path runDir) throws IOException {
        BalancingLog log = new BalancingLog();
        Path omegaCsv = runDir.resolve("omega_by_class_size.csv"), gammaCsv = runDir.resolve("gamma_by_task_size.csv");
        if (java.nio.file.Files.exists(omegaCsv)) {
            for (String[] f : CsvReader.rows(omegaCsv, log.omegaRows.header())) {
                log.omega(f[0], Integer.parseInt(f[1]), f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]), Double.parseDouble(f[5]));
            }
        }
        if (java.nio.file.Files.exists(gammaCsv)) {
            for (String[] f : CsvReader.rows(gammaCsv, log.gammaRows.header())) {
                log.gamma(f[0], Integer.parseInt(f[1]), f[2], Integer.parseInt(f[3]), Integer.parseInt(f[4]), Double.parseDouble(f[5]));
            }
        }
        return log;
    }

    private static double spearman(List<double[]> points) {
        if (points.size() < 3) return Double.NaN;
        double[] x = column(points, 0), y = column(points, 1);
        if (constant(x) || constant(y)) return Double.NaN;
        return new SpearmansCorrelation().correlation(x, y);
    }

    private static boolean constant(double[] v) {
        for (double a : v) if (a != v[0]) return false;
        return true;
    }

    private static double[] column(List<double[]> points, int c) {
        double[] out = new double[points.size()];
        for (int i = 0; i < out.length; i++) out[i] = points.get(i)[c];
        return out;
    }
}
