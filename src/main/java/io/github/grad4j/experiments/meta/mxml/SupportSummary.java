package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * What one prototypical learner "sees" in an episode's support set, as a few numbers the weight
 * prediction network reads. Every feature is a mean or ratio over support images and classes, so it
 * does not depend on the order of the support set or on how classes are numbered (permutation
 * invariant). Features are computed in double precision, outside the autograd graph: the learners
 * are frozen and the WPN only reads them.
 *
 * <p>The features, in order ({@link #NAMES}):
 * <ol>
 *   <li>log of the mean embedding norm: learners trained elsewhere often embed foreign images at a
 *       very different scale</li>
 *   <li>coefficient of variation of the embedding norms</li>
 *   <li>log of (mean squared distance of a support embedding to its own prototype) / (mean squared
 *       distance between prototypes): small when the learner clusters the classes well</li>
 *   <li>log(1 + leave-one-out cross-entropy) on the support: each support image is classified
 *       against the prototypes computed without it (the learner's own few-shot loss on this task;
 *       the log tames the huge losses of a learner whose distances are far out of scale)</li>
 *   <li>mean leave-one-out prediction entropy divided by log(ways) (0: confident, 1: uniform)</li>
 *   <li>leave-one-out accuracy</li>
 * </ol>
 * Leave-one-out needs at least two support images per class; with one shot the support says
 * nothing about how well the learner clusters a class, so such episodes are rejected.
 */
public final class SupportSummary {
    /** Names of the features, in the order {@link #of} returns them. */
    public static final String[] NAMES = {"log_mean_norm", "norm_cv", "log_within_between", "log1p_loo_loss",
            "loo_entropy", "loo_accuracy"};
    /** Number of features per learner. */
    public static final int SIZE = NAMES.length;
    /** Keeps logs and ratios finite for degenerate (e.g. all-zero) embeddings. */
    private static final double TINY = 1e-12;

    private SupportSummary() {
    }

    /**
     * Features of support embeddings [Ns, D] with episode labels 0..ways-1.
     *
     * @throws IllegalArgumentException if a class has fewer than two support images, or shapes disagree
     */
    public static double[] of(Tensor supportEmbeddings, int[] labels, int ways) {
        if (supportEmbeddings.dim() != 2 || supportEmbeddings.size(0) != labels.length) {
            throw new IllegalArgumentException("SupportSummary: embeddings " + Shape.str(supportEmbeddings.shape())
                    + " should be [" + labels.length + ", D] for " + labels.length + " labels");
        }
        if (ways < 2) throw new IllegalArgumentException("SupportSummary: need at least 2 ways, got " + ways);
        int n = labels.length;
        int d = supportEmbeddings.size(1);
        double[] flat = supportEmbeddings.detach().contiguous().toDoubleArray();
        int[] counts = new int[ways];
        for (int label : labels) counts[label]++;
        for (int c = 0; c < ways; c++) {
            if (counts[c] < 2) {
                throw new IllegalArgumentException("SupportSummary: class " + c + " has " + counts[c]
                        + " support image(s); the leave-one-out features need at least 2 shots per class");
            }
        }
        double[][] prototypes = new double[ways][d];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) prototypes[labels[i]][k] += flat[i * d + k] / counts[labels[i]];
        }

        double[] norms = new double[n];
        double normSum = 0;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += flat[i * d + k] * flat[i * d + k];
            norms[i] = Math.sqrt(s);
            normSum += norms[i];
        }
        double meanNorm = normSum / n;
        double normVariance = 0;
        for (double v : norms) normVariance += (v - meanNorm) * (v - meanNorm);
        double normStd = Math.sqrt(normVariance / n);

        double within = 0;
        for (int i = 0; i < n; i++) within += squaredDistance(flat, i * d, prototypes[labels[i]], d);
        within /= n;
        double between = 0;
        int pairs = 0;
        for (int a = 0; a < ways; a++) {
            for (int b = a + 1; b < ways; b++, pairs++) between += squaredDistance(prototypes[a], 0, prototypes[b], d);
        }
        between /= pairs;

        double looLoss = 0, looEntropy = 0, looCorrect = 0;
        double[] logits = new double[ways];
        double[] ownPrototype = new double[d];
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            // the class mean without image i: (count * mean - z_i) / (count - 1)
            for (int k = 0; k < d; k++) {
                ownPrototype[k] = (counts[y] * prototypes[y][k] - flat[i * d + k]) / (counts[y] - 1);
            }
            for (int c = 0; c < ways; c++) {
                logits[c] = -squaredDistance(flat, i * d, c == y ? ownPrototype : prototypes[c], d);
            }
            double max = Double.NEGATIVE_INFINITY;
            int best = 0;
            for (int c = 0; c < ways; c++) {
                if (logits[c] > max) {
                    max = logits[c];
                    best = c;
                }
            }
            double sumExp = 0;
            for (int c = 0; c < ways; c++) sumExp += Math.exp(logits[c] - max);
            double logNormalizer = max + Math.log(sumExp);
            looLoss += logNormalizer - logits[y];
            double entropy = 0;
            for (int c = 0; c < ways; c++) {
                double logP = logits[c] - logNormalizer;
                entropy -= Math.exp(logP) * logP;
            }
            looEntropy += entropy;
            if (best == y) looCorrect++;
        }
        return new double[]{
                Math.log(meanNorm + TINY),
                normStd / (meanNorm + TINY),
                Math.log((within + TINY) / (between + TINY)),
                Math.log1p(looLoss / n),
                looEntropy / n / Math.log(ways),
                looCorrect / n};
    }

    private static double squaredDistance(double[] a, int aOffset, double[] b, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            double diff = a[aOffset + k] - b[k];
            s += diff * diff;
        }
        return s;
    }
}
