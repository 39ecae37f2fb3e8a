package io.github.grad4j.experiments.quant;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Aggregates of the analysis grid: per-run and per-cell tables, the bit-width scaling of the
 * gradient magnitude, and a short text summary. "Best loss" is the lowest loss any run reached
 * for the same data set and bit width, so steps-to-within-10% compares parameterizations and
 * optimizers on one yardstick.
 */
final class AnalysisSummary {
    static final double WITHIN = 1.10;

    /** Seeds aggregated: mean final loss over non-diverged seeds, diverged fraction, median steps. */
    record Cell(AnalysisTask.Dataset dataset, Parameterization parameterization, int bits, RangeOptimizer.Kind optimizer,
                double lr, double meanFinalLoss, double divergedFraction, int medianStepsToWithin10, List<double[]> lossCurves) {
        boolean stable() {
            return divergedFraction == 0;
        }
    }

    /** Fitted slope of log10 |grad| against bits for one parameter, with the per-bit means it was fitted to. */
    record Scaling(AnalysisTask.Dataset dataset, Parameterization parameterization, String parameter, int[] bits,
                   double[] meanLog10, double slope) {
    }

    final List<AnalysisRun.Result> runs;
    final Map<String, Double> bestLoss = new LinkedHashMap<>();
    final List<Cell> cells = new ArrayList<>();
    final List<Scaling> scalings = new ArrayList<>();

    AnalysisSummary(List<AnalysisRun.Result> runs) {
        this.runs = runs;
        for (AnalysisRun.Result r : runs) bestLoss.merge(bestKey(r.spec()), r.bestLoss(), Math::min);
        Map<String, List<AnalysisRun.Result>> bySeed = new LinkedHashMap<>();
        for (AnalysisRun.Result r : runs) {
            AnalysisRun.Spec s = r.spec();
            bySeed.computeIfAbsent(s.dataset() + "|" + s.parameterization() + "|" + s.bits() + "|" + s.optimizer() + "|" + s.lr(),
                    k -> new ArrayList<>()).add(r);
        }
        for (List<AnalysisRun.Result> group : bySeed.values()) cells.add(cell(group));
        fitScalings();
    }

    private String bestKey(AnalysisRun.Spec s) {
        return s.dataset() + "|" + s.bits();
    }

    int stepsToWithin10(AnalysisRun.Result r) {
        return r.stepsToWithin(bestLoss.get(bestKey(r.spec())), WITHIN);
    }

    private Cell cell(List<AnalysisRun.Result> group) {
        AnalysisRun.Spec s = group.get(0).spec();
        double sum = 0;
        int finite = 0, diverged = 0;
        int[] steps = new int[group.size()];
        List<double[]> curves = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            AnalysisRun.Result r = group.get(i);
            if (r.diverged()) diverged++;
            else {
                sum += r.finalLoss();
                finite++;
            }
            int st = stepsToWithin10(r);
            steps[i] = st < 0 ? Integer.MAX_VALUE : st;
            curves.add(r.losses());
        }
        Arrays.sort(steps);
        int median = steps[(steps.length - 1) / 2];
        return new Cell(s.dataset(), s.parameterization(), s.bits(), s.optimizer(), s.lr(), finite == 0 ? Double.NaN : sum / finite,
                (double) diverged / group.size(), median == Integer.MAX_VALUE ? -1 : median, curves);
    }

    private void fitScalings() {
        // step-0 gradients do not depend on optimizer or learning rate: average log10 |g| over seeds
        Map<String, Map<Integer, double[]>> acc = new LinkedHashMap<>(); // key -> bits -> {sum, count}
        Map<String, AnalysisRun.Spec> specOf = new LinkedHashMap<>();
        for (AnalysisRun.Result r : runs) {
            AnalysisRun.Spec s = r.spec();
            for (Map.Entry<String, Double> e : r.initialGradNorms().entrySet()) {
                if (!(e.getValue() > 0) || !Double.isFinite(e.getValue())) continue;
                String key = s.dataset() + "|" + s.parameterization() + "|" + e.getKey();
                specOf.putIfAbsent(key, s);
                double[] a = acc.computeIfAbsent(key, k -> new TreeMap<>()).computeIfAbsent(s.bits(), b -> new double[2]);
                a[0] += Math.log10(e.getValue());
                a[1]++;
            }
        }
        for (Map.Entry<String, Map<Integer, double[]>> e : acc.entrySet()) {
            int[] bits = e.getValue().keySet().stream().mapToInt(Integer::intValue).toArray();
            double[] y = e.getValue().values().stream().mapToDouble(a -> a[0] / a[1]).toArray();
            AnalysisRun.Spec s = specOf.get(e.getKey());
            String param = e.getKey().substring(e.getKey().lastIndexOf('|') + 1);
            scalings.add(new Scaling(s.dataset(), s.parameterization(), param, bits, y, slope(bits, y)));
        }
    }

    /** Least-squares slope of y against x. */
    static double slope(int[] x, double[] y) {
        if (x.length < 2) return Double.NaN;
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= x.length;
        double sxy = 0, sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxy / sxx;
    }

    // ---------------------------------------------------------------- CSV

    String runsCsv() {
        StringBuilder sb = new StringBuilder("dataset,parameterization,bits,optimizer,lr,seed,initial_loss,final_loss,best_loss,"
                + "diverged,divergence_reason,divergence_step,steps_to_within_10pct_of_best\n");
        for (AnalysisRun.Result r : runs) {
            sb.append(r.spec().key()).append(',').append(AnalysisRun.num(r.initialLoss())).append(',')
                    .append(AnalysisRun.num(r.finalLoss())).append(',').append(AnalysisRun.num(r.bestLoss())).append(',')
                    .append(r.diverged()).append(',').append(r.reason().replace(',', ';')).append(',').append(r.divergedStep())
                    .append(',').append(stepsToWithin10(r)).append('\n');
        }
        return sb.toString();
    }

    String lossesCsv() {
        StringBuilder sb = new StringBuilder("dataset,parameterization,bits,optimizer,lr,seed,step,loss\n");
        for (AnalysisRun.Result r : runs) {
            for (int t = 0; t < r.losses().length; t++) {
                sb.append(r.spec().key()).append(',').append(t).append(',').append(AnalysisRun.num(r.losses()[t])).append('\n');
            }
        }
        return sb.toString();
    }

    String cellsCsv() {
        StringBuilder sb = new StringBuilder("dataset,parameterization,bits,optimizer,lr,mean_final_loss,diverged_fraction,"
                + "median_steps_to_within_10pct_of_best,best_loss_for_dataset_and_bits\n");
        for (Cell c : cells) {
            sb.append(c.dataset()).append(',').append(c.parameterization()).append(',').append(c.bits()).append(',')
                    .append(c.optimizer().name().toLowerCase(Locale.ROOT)).append(',').append(AnalysisRun.num(c.lr())).append(',')
                    .append(AnalysisRun.num(c.meanFinalLoss())).append(',').append(AnalysisRun.num(c.divergedFraction())).append(',')
                    .append(c.medianStepsToWithin10()).append(',').append(AnalysisRun.num(bestLoss.get(c.dataset() + "|" + c.bits())))
                    .append('\n');
        }
        return sb.toString();
    }

    String scalingCsv() {
        StringBuilder sb = new StringBuilder("dataset,parameterization,parameter,bits,mean_log10_abs_grad,slope_log10_per_bit,factor_per_bit\n");
        for (Scaling s : scalings) {
            for (int i = 0; i < s.bits().length; i++) {
                sb.append(s.dataset()).append(',').append(s.parameterization()).append(',').append(s.parameter()).append(',')
                        .append(s.bits()[i]).append(',').append(AnalysisRun.num(s.meanLog10()[i])).append(',')
                        .append(AnalysisRun.num(s.slope())).append(',').append(AnalysisRun.num(Math.pow(10, s.slope()))).append('\n');
            }
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- text

    /** The best cell (lowest mean final loss among stable cells) of a parameterization at one bit width. */
    Cell bestCell(AnalysisTask.Dataset d, Parameterization p, int bits) {
        Cell best = null;
        for (Cell c : cells) {
            if (c.dataset() != d || c.parameterization() != p || c.bits() != bits || !c.stable()) continue;
            if (best == null || c.meanFinalLoss() < best.meanFinalLoss()) best = c;
        }
        return best;
    }

    int stableCount(AnalysisTask.Dataset d, Parameterization p, int bits, RangeOptimizer.Kind kind) {
        int n = 0;
        for (Cell c : cells) {
            if (c.dataset() == d && c.parameterization() == p && c.bits() == bits && c.optimizer() == kind && c.stable()) n++;
        }
        return n;
    }

    String text(List<AnalysisTask.Dataset> datasets, List<Parameterization> params, int[] bits, int lrCount) {
        StringBuilder sb = new StringBuilder();
        sb.append("Per data set: rows parameterization, columns bit width. Entry = best final loss / best loss reached by any run "
                + "at that bit width | learning rates (of ").append(lrCount).append(") stable in every seed with SGD/Adam | "
                + "median steps to within 10% of that best in the best cell (-1: never).\n");
        for (AnalysisTask.Dataset d : datasets) {
            sb.append("\n").append(d).append('\n');
            sb.append(String.format(Locale.ROOT, "%-20s", "parameterization"));
            for (int b : bits) sb.append(String.format(Locale.ROOT, " | %-19s", "b=" + b));
            sb.append('\n');
            for (Parameterization p : params) {
                sb.append(String.format(Locale.ROOT, "%-20s", p));
                for (int b : bits) {
                    Cell c = bestCell(d, p, b);
                    String ratio = c == null ? "  -  " : String.format(Locale.ROOT, "%5.2f", c.meanFinalLoss() / bestLoss.get(d + "|" + b));
                    String entry = ratio + " " + stableCount(d, p, b, RangeOptimizer.Kind.SGD) + "/"
                            + stableCount(d, p, b, RangeOptimizer.Kind.ADAM) + " " + (c == null ? "-" : c.medianStepsToWithin10());
                    sb.append(String.format(Locale.ROOT, " | %-19s", entry));
                }
                sb.append('\n');
            }
            sb.append(verdict(d, params, bits));
        }
        sb.append("\nGradient magnitude vs bit width at step 0: slope of log10|grad| per bit (factor per bit); "
                + "theory: s +0.30 (x2), z -0.30 (x0.5), theta/beta/gamma 0 (x1)\n");
        for (AnalysisTask.Dataset d : datasets) {
            sb.append(String.format(Locale.ROOT, "%-18s", d));
            for (Scaling s : scalings) {
                if (s.dataset() != d) continue;
                sb.append(String.format(Locale.ROOT, " %s:%s %+.2f", shortName(s.parameterization()), s.parameter(), s.slope()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String shortName(Parameterization p) {
        return switch (p) {
            case SCALE_OFFSET -> "SO";
            case MIN_MAX -> "MM";
            case BETA_GAMMA -> "BG";
            case BETA_GAMMA_SIGMOID -> "BGs";
        };
    }

    /** Which parameterization was fastest (median over bits of steps at its best cell), lowest, and most stable. */
    private String verdict(AnalysisTask.Dataset d, List<Parameterization> params, int[] bits) {
        Parameterization fastest = null, lowest = null, stablest = null;
        double bestSteps = Double.POSITIVE_INFINITY, bestRatio = Double.POSITIVE_INFINITY;
        int mostStable = -1;
        for (Parameterization p : params) {
            double[] steps = new double[bits.length];
            double ratioSum = 0;
            int stable = 0;
            for (int i = 0; i < bits.length; i++) {
                Cell c = bestCell(d, p, bits[i]);
                steps[i] = c == null || c.medianStepsToWithin10() < 0 ? 1e9 : c.medianStepsToWithin10();
                ratioSum += c == null ? 1e9 : Math.log(c.meanFinalLoss() / bestLoss.get(d + "|" + bits[i]));
                stable += stableCount(d, p, bits[i], RangeOptimizer.Kind.SGD) + stableCount(d, p, bits[i], RangeOptimizer.Kind.ADAM);
            }
            Arrays.sort(steps);
            double medianSteps = steps[(steps.length - 1) / 2];
            if (medianSteps < bestSteps) {
                bestSteps = medianSteps;
                fastest = p;
            }
            if (ratioSum < bestRatio) {
                bestRatio = ratioSum;
                lowest = p;
            }
            if (stable > mostStable) {
                mostStable = stable;
                stablest = p;
            }
        }
        return String.format(Locale.ROOT, "  -> fastest (median over bits of steps to within 10%%): %s; lowest final loss (geometric "
                + "mean ratio over bits): %s; most stable (stable lr x optimizer x bits cells): %s (%d)%n", fastest, lowest, stablest,
                mostStable);
    }
}
