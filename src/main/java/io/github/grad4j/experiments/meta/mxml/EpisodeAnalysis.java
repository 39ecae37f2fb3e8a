package io.github.grad4j.experiments.meta.mxml;

/**
 * Everything the frozen learners say about one episode: the concatenated support summaries (the
 * WPN's input, learner by learner), each learner's query log-probabilities [Nq, ways] (constants)
 * and the query labels (null when unknown). Since the learners never change, an analysis can be
 * computed once and reused for any number of WPN updates.
 *
 * @param summaries             M x {@link SupportSummary#SIZE} numbers
 * @param learnerLogProbabilities one tensor per learner
 * @param queryLabels           labels of the queries, or null
 */
public record EpisodeAnalysis(double[] summaries, io.github.grad4j.tensor.Tensor[] learnerLogProbabilities,
                              int[] queryLabels) {
}
