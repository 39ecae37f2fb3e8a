package io.github.grad4j.experiments.quant;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The analysis tool on a tiny grid: outputs, determinism, divergence marking, and its helpers. */
class QuantAnalysisTest {

    private static QuantGradientAnalysis.Grid tinyGrid() {
        return new QuantGradientAnalysis.Grid(
                List.of(AnalysisTask.Dataset.GAUSSIAN, AnalysisTask.Dataset.CHANNEL_SCALES, AnalysisTask.Dataset.LINEAR),
                List.of(Parameterization.values()), new int[]{2, 8}, new double[]{1e-3, 1e3},
                List.of(RangeOptimizer.Kind.values()), 1, 4, 256, 2, 4096, 1);
    }

    @Test
    void tinyGridWritesConsistentOutputsAndMarksDivergence(@TempDir Path dir) throws Exception {
        QuantGradientAnalysis.Grid g = tinyGrid();
        AnalysisSummary summary = QuantGradientAnalysis.analyze(g, dir, 7, 2, QuantPlots.DATA_ONLY);
        for (String f : new String[]{"steps.csv", "losses.csv", "runs.csv", "cells.csv", "grad_scaling.csv", "toy_table.md", "summary.txt"}) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        assertEquals(g.runCount(), summary.runs.size());
        assertEquals(g.runCount() + 1, Files.readAllLines(dir.resolve("runs.csv")).size());
        assertTrue(Files.exists(dir.resolve("plots").resolve("heatmap_linear_min-max_sgd.csv")));

        // each recorded row: the split parts add up to the gradient used for the update
        List<String> rows = Files.readAllLines(dir.resolve("steps.csv"));
        assertEquals(AnalysisRun.STEP_HEADER, rows.get(0));
        for (String row : rows.subList(1, rows.size())) {
            String[] c = row.split(",");
            double grad = parse(c[11]), sum = parse(c[12]) + parse(c[13]) + parse(c[14]);
            if (Double.isFinite(grad)) assertEquals(grad, sum, 1e-5 * (1 + Math.abs(grad)), row);
        }

        boolean sawDivergence = false;
        for (AnalysisRun.Result r : summary.runs) {
            if (r.diverged()) {
                sawDivergence = true;
                assertFalse(r.reason().isEmpty());
                assertTrue(r.divergedStep() >= 0 && r.divergedStep() < g.steps());
            } else {
                assertEquals(g.steps(), r.losses().length, r.spec().toString());
                for (double l : r.losses()) assertTrue(Double.isFinite(l) && l <= 10 * r.initialLoss(), r.spec().toString());
            }
        }
        assertTrue(sawDivergence, "a learning rate of 1e3 with SGD must diverge somewhere");
        // scale/offset at 8 bits: d/ds grows like 2^b, so an SGD step of 1e3 must throw the range away
        AnalysisRun.Result so8 = summary.runs.stream().filter(r -> r.spec().dataset() == AnalysisTask.Dataset.GAUSSIAN
                && r.spec().parameterization() == Parameterization.SCALE_OFFSET && r.spec().bits() == 8
                && r.spec().optimizer() == RangeOptimizer.Kind.SGD && r.spec().lr() == 1e3).findFirst().orElseThrow();
        assertTrue(so8.diverged(), so8.toString());
    }

    /** The CSV spelling: numbers, "nan", "inf", "-inf". */
    private static double parse(String v) {
        return switch (v) {
            case "nan" -> Double.NaN;
            case "inf" -> Double.POSITIVE_INFINITY;
            case "-inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(v);
        };
    }

    @Test
    void sameSeedSameResultsWhateverTheThreads() throws Exception {
        QuantGradientAnalysis.Grid g = tinyGrid();
        List<AnalysisRun.Result> one = QuantGradientAnalysis.runGrid(g, 3, 1);
        List<AnalysisRun.Result> two = QuantGradientAnalysis.runGrid(g, 3, 2);
        for (int i = 0; i < one.size(); i++) {
            assertArrayEquals(one.get(i).losses(), two.get(i).losses(), 0.0);
            assertEquals(one.get(i).stepRows(), two.get(i).stepRows());
        }
        List<AnalysisRun.Result> other = QuantGradientAnalysis.runGrid(g, 4, 2);
        assertNotEquals(one.get(0).losses()[0], other.get(0).losses()[0], "a different seed draws different data");
    }

    @Test
    void updateRulesFollowTheirDefinitions() {
        Tensor p = Tensor.of(new double[]{1.0, -2.0}, DType.FLOAT64, 2).requiresGrad(true);
        Tensor g = Tensor.of(new double[]{0.5, -4.0}, DType.FLOAT64, 2);
        RangeOptimizer.of(RangeOptimizer.Kind.SGD, 0.1).step(List.of(p), List.of(g));
        assertArrayEquals(new double[]{0.95, -1.6}, p.toDoubleArray(), 1e-15);

        Tensor q = Tensor.of(new double[]{1.0, -2.0}, DType.FLOAT64, 2).requiresGrad(true);
        RangeOptimizer adam = RangeOptimizer.of(RangeOptimizer.Kind.ADAM, 0.1);
        adam.step(List.of(q), List.of(g));
        // first step: m_hat = g, v_hat = g^2, so the step is lr * g/(|g| + eps) = about lr * sign(g)
        assertArrayEquals(new double[]{1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 4 / (4 + 1e-8)}, q.toDoubleArray(), 1e-15);
        Tensor g2 = Tensor.of(new double[]{-0.5, 0.0}, DType.FLOAT64, 2);
        adam.step(List.of(q), List.of(g2));
        // second step, element 0: m = 0.9*0.05 + 0.1*(-0.5) = -0.005, v = 0.999*0.00025 + 0.001*0.25 = 0.00049975
        double mHat = -0.005 / (1 - 0.81), vHat = 0.00049975 / (1 - 0.998001);
        double want = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8) - 0.1 * mHat / (Math.sqrt(vHat) + 1e-8);
        assertEquals(want, q.toDoubleArray()[0], 1e-12);
    }

    @Test
    void commandLineErrorsAreReportedWithTheUsage() {
        assertEquals(2, QuantGradientAnalysis.run(new String[]{"analyze", "--fast"}));
        assertEquals(2, QuantGradientAnalysis.run(new String[]{"--threads", "0"}));
        assertEquals(2, QuantGradientAnalysis.run(new String[]{"--seed"}));
        assertEquals(0, QuantGradientAnalysis.run(new String[]{"analyze", "--help"}));
    }

    @Test
    void slopeOfAnExactLineAndLearningRateGrid() {
        assertEquals(0.30103, AnalysisSummary.slope(new int[]{2, 3, 4, 6, 8},
                new double[]{0.60206, 0.90309, 1.20412, 1.80618, 2.40824}), 1e-9);
        double[] lrs = QuantGradientAnalysis.logGrid(-5, 0, 2);
        assertEquals(11, lrs.length);
        assertEquals(1e-5, lrs[0], 0);
        assertEquals(1.0, lrs[10], 0);
        assertEquals(3.16e-5, lrs[1], 0);
    }

    /**
     * The toy table's shape follows from the formulas (not from our output): the s path grows and
     * the z path shrinks steeply with b, min/max barely changes from b=4 to b=8, and gamma's move is
     * exactly max(x)^2 times min/max's (same range, d/dgamma = max(x) d/dtheta_max).
     */
    @Test
    void toyTableHasTheShapeTheFormulasPredict() {
        List<ToyTable.Row> rows = ToyTable.compute(11, 1 << 14);
        ToyTable.Row b4 = rows.get(1), b8 = rows.get(2);
        assertTrue(b8.sPath() / b4.sPath() > 30, "s path " + b4.sPath() + " -> " + b8.sPath());
        assertTrue(b4.zPath() / b8.zPath() > 30, "z path " + b4.zPath() + " -> " + b8.zPath());
        assertTrue(b8.minMax() / b4.minMax() < 3 && b4.minMax() / b8.minMax() < 3, "min/max " + b4.minMax() + " -> " + b8.minMax());
        Tensor x = AnalysisTask.gaussian(new io.github.grad4j.tensor.Rng(11), 1 << 14, 0.3);
        double max = RangeInit.dataExtremes(x, QuantConfig.PER_TENSOR).max().item();
        for (ToyTable.Row r : rows) assertEquals(max * max * r.minMax(), r.gamma(), 1e-9 * r.gamma(), "b=" + r.bits());
    }

    @Test
    void gridOverridesChangeOnlyWhatTheySay() {
        QuantGradientAnalysis.Grid quick = QuantGradientAnalysis.quickGrid();
        QuantGradientAnalysis.Grid g = quick.withSeeds(3).withSteps(100).withLrPerDecade(2);
        assertEquals(3, g.seeds());
        assertEquals(100, g.steps());
        assertArrayEquals(new double[]{1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0}, g.lrs(), 0);
        assertEquals(quick.size(), g.size());
        assertEquals(quick.channels(), g.channels());
        assertEquals(quick.runCount() / 2 * 3 / 6 * 11, g.runCount());
        assertThrows(IllegalArgumentException.class, () -> quick.withSeeds(0));
        assertThrows(IllegalArgumentException.class, () -> quick.withSteps(0));
        assertThrows(IllegalArgumentException.class, () -> quick.withLrPerDecade(0));
    }
}
