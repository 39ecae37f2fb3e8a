package io.github.grad4j.experiments.quant;

import io.github.grad4j.report.HeatMap;
import io.github.grad4j.report.LinePlot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The plots of the gradient analysis. Each plot's data is written as a small CSV next to where its
 * PNG goes, and handed to a {@link Renderer} to draw. This branch has no PNG renderer:
 * {@link #reportRenderer()} is where the lead wires {@code io.github.grad4j.report}; until then it
 * returns {@link #DATA_ONLY}, which draws nothing.
 *
 * <p>The plots:
 * <ol>
 * <li>{@code loss_<dataset>_b<bits>.png}: loss (log) vs step, one line per parameterization and optimizer,
 *     each at its best stable learning rate, mean over seeds;</li>
 * <li>{@code heatmap_<dataset>_<parameterization>_<optimizer>.png}: final loss (log10) over bits (rows) x learning
 *     rate (columns), diverged cells NaN;</li>
 * <li>{@code gradbits_<dataset>.png}: |grad| at step 0 (log) vs bit width, one line per parameter.</li>
 * </ol>
 */
public final class QuantPlots {

    /** Draws one plot to a PNG. Implementations must not throw for NaN values (they mark missing data). */
    public interface Renderer {
        /** Lines: series name -&gt; {x values, y values}. */
        void lines(Path png, String title, String xLabel, String yLabel, boolean logX, boolean logY,
                   Map<String, double[][]> series) throws IOException;

        /** A heat map of values[row][column]; NaN cells are drawn as missing. */
        void heatMap(Path png, String title, String rowLabel, String columnLabel, String[] rowTicks, String[] columnTicks,
                     double[][] values) throws IOException;
    }

    /** Draws nothing: the CSV data are still written. */
    public static final Renderer DATA_ONLY = new Renderer() {
        @Override
        public void lines(Path png, String title, String xLabel, String yLabel, boolean logX, boolean logY,
                          Map<String, double[][]> series) {
        }

        @Override
        public void heatMap(Path png, String title, String rowLabel, String columnLabel, String[] rowTicks,
                            String[] columnTicks, double[][] values) {
        }
    };

    private QuantPlots() {
    }

    /** The renderer backed by {@code io.github.grad4j.report}: line plots and heat maps as PNG. */
    public static Renderer reportRenderer() {
        return new Renderer() {
            @Override
            public void lines(Path png, String title, String xLabel, String yLabel, boolean logX, boolean logY,
                              Map<String, double[][]> series) throws IOException {
                LinePlot plot = new LinePlot().title(title).xLabel(xLabel).yLabel(yLabel).logX(logX).logY(logY);
                for (Map.Entry<String, double[][]> e : series.entrySet()) {
                    double[][] xy = e.getValue();
                    // a log axis cannot show zero or negative values: those points are gaps, as divergence is
                    double[] y = xy[1].clone();
                    if (logY) for (int i = 0; i < y.length; i++) if (!(y[i] > 0)) y[i] = Double.NaN;
                    plot.series(e.getKey(), xy[0], y);
                }
                plot.writePng(png);
            }

            @Override
            public void heatMap(Path png, String title, String rowLabel, String columnLabel, String[] rowTicks,
                                String[] columnTicks, double[][] values) throws IOException {
                new HeatMap().title(title).xLabel(columnLabel).yLabel(rowLabel).values(values)
                        .rowLabels(rowTicks).columnLabels(columnTicks).annotate(true).nanLabel("div")
                        .colorBarLabel("log10 final loss").writePng(png);
            }
        };
    }

    /** Writes every plot's data under {@code dir} and draws it with {@code renderer}; returns the PNG paths asked for. */
    static List<Path> writeAll(Path dir, AnalysisSummary summary, List<AnalysisTask.Dataset> datasets,
                               List<Parameterization> params, int[] bits, double[] lrs, Renderer renderer) throws IOException {
        Files.createDirectories(dir);
        List<Path> pngs = new ArrayList<>();
        for (AnalysisTask.Dataset d : datasets) {
            for (int b : new int[]{bits[0], bits[bits.length / 2], bits[bits.length - 1]}) {
                Map<String, double[][]> series = new LinkedHashMap<>();
                for (Parameterization p : params) {
                    for (RangeOptimizer.Kind k : RangeOptimizer.Kind.values()) {
                        AnalysisSummary.Cell best = bestOf(summary, d, p, b, k);
                        if (best != null) series.put(p + " " + k.name().toLowerCase(Locale.ROOT) + " lr=" + AnalysisRun.num(best.lr()),
                                meanCurve(best.lossCurves()));
                    }
                }
                Path png = dir.resolve("loss_" + d + "_b" + b + ".png");
                writeLines(png, series);
                renderer.lines(png, "loss, " + d + ", b=" + b + " (best stable lr per line)", "step", "loss", false, true, series);
                pngs.add(png);
            }
            for (Parameterization p : params) {
                for (RangeOptimizer.Kind k : RangeOptimizer.Kind.values()) {
                    double[][] values = new double[bits.length][lrs.length];
                    for (int i = 0; i < bits.length; i++) {
                        for (int j = 0; j < lrs.length; j++) {
                            values[i][j] = Double.NaN;
                            for (AnalysisSummary.Cell c : summary.cells) {
                                if (c.dataset() == d && c.parameterization() == p && c.bits() == bits[i] && c.optimizer() == k
                                        && c.lr() == lrs[j] && c.stable()) values[i][j] = Math.log10(c.meanFinalLoss());
                            }
                        }
                    }
                    String[] rows = new String[bits.length], cols = new String[lrs.length];
                    for (int i = 0; i < bits.length; i++) rows[i] = "b=" + bits[i];
                    for (int j = 0; j < lrs.length; j++) cols[j] = String.format(Locale.ROOT, "%.0e", lrs[j]);
                    Path png = dir.resolve("heatmap_" + d + "_" + p + "_" + k.name().toLowerCase(Locale.ROOT) + ".png");
                    writeGrid(png, rows, cols, values);
                    renderer.heatMap(png, "log10 final loss, " + d + ", " + p + ", " + k.name().toLowerCase(Locale.ROOT)
                            + " (blank: diverged)", "bits", "learning rate", rows, cols, values);
                    pngs.add(png);
                }
            }
            Map<String, double[][]> grads = new LinkedHashMap<>();
            for (AnalysisSummary.Scaling s : summary.scalings) {
                if (s.dataset() != d) continue;
                double[] xs = new double[s.bits().length], ys = new double[s.bits().length];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = s.bits()[i];
                    ys[i] = Math.pow(10, s.meanLog10()[i]);
                }
                grads.put(s.parameterization() + " " + s.parameter(), new double[][]{xs, ys});
            }
            Path png = dir.resolve("gradbits_" + d + ".png");
            writeLines(png, grads);
            renderer.lines(png, "|grad| at step 0 vs bit width, " + d, "bits", "|grad|", false, true, grads);
            pngs.add(png);
        }
        return pngs;
    }

    private static AnalysisSummary.Cell bestOf(AnalysisSummary s, AnalysisTask.Dataset d, Parameterization p, int b,
                                               RangeOptimizer.Kind k) {
        AnalysisSummary.Cell best = null;
        for (AnalysisSummary.Cell c : s.cells) {
            if (c.dataset() != d || c.parameterization() != p || c.bits() != b || c.optimizer() != k || !c.stable()) continue;
            if (best == null || c.meanFinalLoss() < best.meanFinalLoss()) best = c;
        }
        return best;
    }

    private static double[][] meanCurve(List<double[]> curves) {
        int len = curves.stream().mapToInt(c -> c.length).min().orElse(0);
        double[] xs = new double[len], ys = new double[len];
        for (int t = 0; t < len; t++) {
            xs[t] = t;
            for (double[] c : curves) ys[t] += c[t] / curves.size();
        }
        return new double[][]{xs, ys};
    }

    private static void writeLines(Path png, Map<String, double[][]> series) throws IOException {
        StringBuilder sb = new StringBuilder("series,x,y\n");
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            for (int i = 0; i < e.getValue()[0].length; i++) {
                sb.append(e.getKey()).append(',').append(AnalysisRun.num(e.getValue()[0][i])).append(',')
                        .append(AnalysisRun.num(e.getValue()[1][i])).append('\n');
            }
        }
        Files.writeString(dataPath(png), sb, StandardCharsets.UTF_8);
    }

    private static void writeGrid(Path png, String[] rows, String[] cols, double[][] values) throws IOException {
        StringBuilder sb = new StringBuilder("row,column,value\n");
        for (int i = 0; i < rows.length; i++) {
            for (int j = 0; j < cols.length; j++) {
                sb.append(rows[i]).append(',').append(cols[j]).append(',').append(AnalysisRun.num(values[i][j])).append('\n');
            }
        }
        Files.writeString(dataPath(png), sb, StandardCharsets.UTF_8);
    }

    /** x.png -&gt; x.csv */
    static Path dataPath(Path png) {
        String name = png.getFileName().toString();
        return png.resolveSibling(name.substring(0, name.length() - 4) + ".csv");
    }
}
