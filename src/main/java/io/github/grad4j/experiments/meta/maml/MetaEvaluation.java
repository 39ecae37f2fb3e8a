package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.report.CsvWriter;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * Meta-test evaluation: mean query accuracy over sampled tasks with a 95% confidence interval
 * (1.96 · sample standard deviation / √tasks, the usual few-shot protocol), and, for Bayesian-TAML,
 * the posterior-mean balancing variables of every test task for the tendency plots of the paper:
 * softmax(omega)_c against the class size, exp(gamma_l) against the task size.
 */
public final class MetaEvaluation {
    private MetaEvaluation() {
    }

    /**
     * @param dataset       label for reports (e.g. "omniglot-small2")
     * @param tasks         how many test tasks
     * @param meanAccuracy  mean query accuracy, in [0, 1]
     * @param ci95          half-width of the 95% confidence interval
     * @param perTask       each task's accuracy
     * @param shotModes     each task's shot mode (e.g. CLASS_IMBALANCED), or null where unknown
     */
    public record Summary(String dataset, int tasks, double meanAccuracy, double ci95, double[] perTask,
                          String[] shotModes) {
        /** The tasks of one shot mode only, or null if fewer than 2 (no interval). */
        public Summary ofShotMode(String mode) {
            if (shotModes == null) return null;
            double[] kept = java.util.stream.IntStream.range(0, tasks).filter(t -> mode.equals(shotModes[t]))
                    .mapToDouble(t -> perTask[t]).toArray();
            return kept.length < 2 ? null : summarize(dataset + " " + mode, kept);
        }

        @Override
        public String toString() {
            return String.format("%s: %.2f%% ± %.2f%% over %d tasks", dataset, 100 * meanAccuracy, 100 * ci95, tasks);
        }
    }

    /** Header of the per-task rows {@link #evaluate} appends: accuracy by shot mode and task size. */
    public static CsvWriter taskCsv() {
        return new CsvWriter("dataset", "task", "shot_mode", "support_size", "accuracy");
    }

    /**
     * Evaluates {@code learner} on {@code tasks} episodes from {@code sampler}; appends one row per
     * task to {@code taskRows} and the posterior-mean balancing variables to {@code balancing} when
     * given (only those the learner has). {@code progress} (may be null) is told each finished
     * task's index.
     */
    public static Summary evaluate(String dataset, MetaLearner learner, EpisodeSampler sampler, int tasks, Rng rng,
                                   CsvWriter taskRows, BalancingLog balancing, IntConsumer progress) {
        if (tasks < 2) throw new IllegalArgumentException("evaluate: need at least 2 tasks for a confidence interval, got " + tasks);
        double[] accuracies = new double[tasks];
        String[] modes = new String[tasks];
        for (int t = 0; t < tasks; t++) {
            Task task = Task.from(sampler.next(), learner.dtype());
            accuracies[t] = MetaLearner.accuracy(learner.predict(task, rng), task);
            modes[t] = String.valueOf(task.shotMode());
            if (taskRows != null) taskRows.row(dataset, t, String.valueOf(task.shotMode()), task.supportSize(), accuracies[t]);
            if (balancing != null) recordBalancing(dataset, t, learner, task, balancing);
            if (progress != null) progress.accept(t);
        }
        Summary all = summarize(dataset, accuracies);
        return new Summary(dataset, tasks, all.meanAccuracy(), all.ci95(), accuracies, modes);
    }

    /** Mean and 95% confidence half-width of per-task accuracies. */
    public static Summary summarize(String dataset, double[] accuracies) {
        int n = accuracies.length;
        double mean = Arrays.stream(accuracies).average().orElse(Double.NaN);
        double ss = 0;
        for (double a : accuracies) ss += (a - mean) * (a - mean);
        double std = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
        return new Summary(dataset, n, mean, 1.96 * std / Math.sqrt(n), accuracies.clone(), null);
    }

    private static void recordBalancing(String dataset, int t, MetaLearner learner, Task task, BalancingLog log) {
        MetaLearnerConfig c = learner.config();
        if (!c.omega() && !c.gamma()) return;
        InferenceNetwork.Posterior q;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            q = learner.posterior(task);
        }
        String mode = String.valueOf(task.shotMode());
        int[] shots = task.shotsPerClass();
        if (c.omega()) {
            double[] w;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                w = q.omegaMu().softmax(0).toDoubleArray();
            }
            for (int k = 0; k < w.length; k++) log.omega(dataset, t, mode, k, shots[k], w[k]);
        }
        if (c.gamma()) {
            double[] g;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                Tensor e = q.gammaMu().exp();
                g = e.toDoubleArray();
            }
            for (int l = 0; l < g.length; l++) log.gamma(dataset, t, mode, task.supportSize(), l, g[l]);
        }
    }
}
