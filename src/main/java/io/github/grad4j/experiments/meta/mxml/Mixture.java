package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * The MxML mixture p(y|x) = sum_m w_m p_m(y|x), computed in log space:
 * log p(y|x) = logsumexp_m (log w_m + log p_m(y|x)). Working with log-probabilities keeps the
 * loss finite where some learner assigns (numerically) zero probability to the true class, and a
 * weight of exactly 0 (log w = -inf) simply drops that learner.
 */
public final class Mixture {
    private Mixture() {
    }

    /**
     * Log mixture probabilities [Nq, C].
     *
     * @param logWeights      log mixing weights [M] (e.g. a log-softmax; may carry a graph)
     * @param learnerLogProbs each learner's log p_m(y|x) for the queries, [Nq, C] each, M in all
     */
    public static Tensor logProbabilities(Tensor logWeights, Tensor[] learnerLogProbs) {
        int m = learnerLogProbs.length;
        if (logWeights.dim() != 1 || logWeights.size(0) != m) {
            throw new IllegalArgumentException("Mixture: log weights " + Shape.str(logWeights.shape()) + " should be ["
                    + m + "], one per learner");
        }
        Tensor stacked = Views.stack(0, learnerLogProbs);                       // [M, Nq, C]
        return stacked.add(logWeights.reshape(m, 1, 1)).logsumexp(0, false);
    }

    /** Mean negative log-likelihood of the true labels under log-probabilities [Nq, C]. */
    public static Tensor negativeLogLikelihood(Tensor logProbabilities, int[] labels) {
        if (logProbabilities.dim() != 2 || logProbabilities.size(0) != labels.length) {
            throw new IllegalArgumentException("Mixture: log-probabilities " + Shape.str(logProbabilities.shape())
                    + " should be [" + labels.length + ", C] for " + labels.length + " labels");
        }
        Tensor index = Tensor.ofInts(labels, labels.length, 1).to(logProbabilities.backend());
        return logProbabilities.gather(1, index).mean().neg();
    }

    /** Fraction of rows of [Nq, C] whose argmax is the label. */
    public static double accuracy(Tensor logProbabilities, int[] labels) {
        int[] predictions = logProbabilities.detach().argmax(1).toIntArray();
        int correct = 0;
        for (int i = 0; i < labels.length; i++) if (predictions[i] == labels[i]) correct++;
        return (double) correct / labels.length;
    }
}
