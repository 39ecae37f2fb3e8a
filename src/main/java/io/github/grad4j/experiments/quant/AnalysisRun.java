package io.github.grad4j.experiments.quant;

import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** One training run of the analysis grid: the range parameters of a task trained for a number of steps. */
final class AnalysisRun {

    /** A cell of the grid plus a seed. */
    record Spec(AnalysisTask.Dataset dataset, Parameterization parameterization, int bits,
                RangeOptimizer.Kind optimizer, double lr, long seed) {
        /** The leading CSV columns that identify the run. */
        String key() {
            return dataset + "," + parameterization + "," + bits + "," + optimizer.name().toLowerCase(Locale.ROOT) + ","
                    + num(lr) + "," + seed;
        }
    }

    /**
     * What a run recorded. {@code losses[t]} is the loss before update t; a diverged run stops at
     * the step where divergence was seen. {@code initialGradNorms}: L2 norm over channels of each
     * parameter's gradient at step 0, keyed "quantizer.param".
     */
    record Result(Spec spec, double[] losses, boolean diverged, String reason, int divergedStep,
                  Map<String, Double> initialGradNorms, String stepRows) {
        double initialLoss() {
            return losses[0];
        }

        /** The last finite loss (the loss before the last update). */
        double finalLoss() {
            for (int t = losses.length - 1; t >= 0; t--) if (Double.isFinite(losses[t])) return losses[t];
            return Double.NaN;
        }

        double bestLoss() {
            double b = Double.POSITIVE_INFINITY;
            for (double l : losses) if (Double.isFinite(l)) b = Math.min(b, l);
            return b;
        }

        /** First step whose loss is within 10% of {@code best}, or -1. */
        int stepsToWithin(double best, double factor) {
            for (int t = 0; t < losses.length; t++) if (losses[t] <= best * factor) return t;
            return -1;
        }
    }

    static final String STEP_HEADER = "dataset,parameterization,bits,optimizer,lr,seed,step,quantizer,param,channel,"
            + "value,grad,grad_inside,grad_below,grad_above,theta_min,theta_max";

    /** Divergence: a non-finite loss, a loss above this multiple of the initial loss, or a non-positive scale. */
    static final double DIVERGENCE_FACTOR = 10;

    private AnalysisRun() {
    }

    /** Trains the ranges of one task; steps.csv rows are kept for every {@code recordEvery}-th step (and the last). */
    static Result run(Spec spec, int steps, int size, int channels, double initialShrink, int recordEvery) {
        AnalysisTask task = new AnalysisTask(spec.dataset(), spec.parameterization(), spec.bits(), spec.seed(), size, channels,
                initialShrink);
        RangeOptimizer optimizer = RangeOptimizer.of(spec.optimizer(), spec.lr());
        List<Tensor> params = new ArrayList<>();
        for (Quantizer q : task.quantizers.values()) params.addAll(q.parameters());
        List<Double> losses = new ArrayList<>();
        Map<String, Double> initialNorms = new LinkedHashMap<>();
        StringBuilder rows = new StringBuilder();
        String reason = "";
        int divergedStep = -1;
        for (int t = 0; t < steps; t++) {
            AnalysisTask.StepResult r;
            try {
                r = task.step();
            } catch (RuntimeException e) {
                reason = "error: " + e.getMessage();
                divergedStep = t;
                break;
            }
            losses.add(r.loss());
            List<Tensor> grads = new ArrayList<>();
            for (Map.Entry<String, Map<String, GradientSplit.RegionGradients>> q : r.splits().entrySet()) {
                Quantizer quantizer = task.quantizers.get(q.getKey());
                Range eff = quantizer.effectiveRange();
                double[] lo = eff.minValues(), hi = eff.maxValues();
                Map<String, Tensor> named = quantizer.namedParameters();
                for (Map.Entry<String, GradientSplit.RegionGradients> p : q.getValue().entrySet()) {
                    Tensor total = p.getValue().total();
                    grads.add(total);
                    double[] value = named.get(p.getKey()).toDoubleArray(), g = total.toDoubleArray();
                    double[] in = p.getValue().inside().toDoubleArray(), below = p.getValue().below().toDoubleArray(),
                            above = p.getValue().above().toDoubleArray();
                    double norm = 0;
                    boolean keep = t % recordEvery == 0 || t == steps - 1;
                    for (int c = 0; c < value.length; c++) {
                        norm += g[c] * g[c];
                        if (keep) rows.append(spec.key()).append(',').append(t).append(',').append(q.getKey()).append(',').append(p.getKey())
                                .append(',').append(c).append(',').append(num(value[c])).append(',').append(num(g[c]))
                                .append(',').append(num(in[c])).append(',').append(num(below[c])).append(',').append(num(above[c]))
                                .append(',').append(num(lo[c])).append(',').append(num(hi[c])).append('\n');
                    }
                    if (t == 0) initialNorms.put(q.getKey() + "." + p.getKey(), Math.sqrt(norm));
                }
            }
            String why = divergence(r.loss(), losses.get(0), task);
            if (why != null) {
                reason = why;
                divergedStep = t;
                break;
            }
            if (t < steps - 1) optimizer.step(params, grads);
        }
        double[] l = losses.stream().mapToDouble(Double::doubleValue).toArray();
        if (l.length == 0) l = new double[]{Double.NaN};
        return new Result(spec, l, divergedStep >= 0, reason, divergedStep, initialNorms, rows.toString());
    }

    private static String divergence(double loss, double initial, AnalysisTask task) {
        if (!Double.isFinite(loss)) return "non-finite loss";
        if (loss > DIVERGENCE_FACTOR * initial) return "loss > " + (int) DIVERGENCE_FACTOR + "x initial";
        for (Quantizer q : task.quantizers.values()) {
            for (double s : q.scale().toDoubleArray()) if (!(s > 0) || !Double.isFinite(s)) return "scale <= 0 or non-finite";
        }
        return null;
    }

    /** Compact CSV number: 7 significant digits (float precision), "nan"/"inf" spelled as pandas reads them. */
    static String num(double v) {
        if (Double.isNaN(v)) return "nan";
        if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
        if (v == 0) return "0";
        float f = (float) v;
        if (Float.isInfinite(f)) return Double.toString(v);
        return Float.toString(f);
    }
}
