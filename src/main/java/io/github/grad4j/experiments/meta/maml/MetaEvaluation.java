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
     */
    public record Summary(String dataset, int tasks, double meanAccuracy, double ci95) {
        @Override
        public String toString() {
            return String.format("%s: %.2f%% ± %.2f%% over %d tasks", dataset, 100 * meanAccuracy, 100 * ci95, tasks);
        }
    }

    /** Header of the per-class omega rows {@link #evaluate} appends. */
    public static CsvWriter omegaCsv() {
        return new CsvWriter("dataset", "task", "shot_mode", "class", "shots", "softmax_omega");
    }

    /** Header of the per-layer gamma rows {@link #evaluate} appends. */
    public static CsvWriter gammaCsv() {
        return new CsvWriter("dataset", "task", "shot_mode", "support_size", "layer", "exp_gamma");
    }

    /**
     * Evaluates {@code learner} on {@code tasks} episodes from {@code sampler}; appends balancing
     * rows to {@code omegaRows} / {@code gammaRows} when given and the learner has those variables.
     * {@code progress} (may be null) is told each finished task's index.
     */
    public static Summary evaluate(String dataset, MetaLearner learner, EpisodeSampler sampler, int tasks, Rng rng,
                                   CsvWriter omegaRows, CsvWriter gammaRows, IntConsumer progress) {
        if (tasks < 2) throw new IllegalArgumentException("evaluate: need at least 2 tasks for a confidence interval, got " + tasks);
        double[] accuracies = new double[tasks];
        for (int t = 0; t < tasks; t++) {
            Task task = Task.from(sampler.next(), learner.dtype());
            accuracies[t] = MetaLearner.accuracy(learner.predict(task, rng), task);
            recordBalancing(dataset, t, learner, task, omegaRows, gammaRows);
            if (progress != null) progress.accept(t);
        }
        return summarize(dataset, accuracies);
    }

    /** Mean and 95% confidence half-width of per-task accuracies. */
    public static Summary summarize(String dataset, double[] accuracies) {
        int n = accuracies.length;
        double mean = Arrays.stream(accuracies).average().orElse(Double.NaN);
        double ss = 0;
        for (double a : accuracies) ss += (a - mean) * (a - mean);
        double std = n > 1 ? Math.sqrt(ss / (n - 1)) : Double.NaN;
        return new Summary(dataset, n, mean, 1.96 * std / Math.sqrt(n));
    }

    private static void recordBalancing(String dataset, int t, MetaLearner learner, Task task, CsvWriter omegaRows,
                                        CsvWriter gammaRows) {
        MetaLearnerConfig c = learner.config();
        if (!(c.omega() && omegaRows != null) && !(c.gamma() && gammaRows != null)) return;
        InferenceNetwork.Posterior q;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            q = learner.posterior(task);
        }
        String mode = String.valueOf(task.shotMode());
        int[] shots = task.shotsPerClass();
        if (c.omega() && omegaRows != null) {
            double[] w;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                w = q.omegaMu().softmax(0).toDoubleArray();
            }
            for (int k = 0; k < w.length; k++) omegaRows.row(dataset, t, mode, k, shots[k], w[k]);
        }
        if (c.gamma() && gammaRows != null) {
            double[] g;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                Tensor e = q.gammaMu().exp();
                g = e.toDoubleArray();
            }
            for (int l = 0; l < g.length; l++) gammaRows.row(dataset, t, mode, task.supportSize(), l, g[l]);
        }
    }
}
