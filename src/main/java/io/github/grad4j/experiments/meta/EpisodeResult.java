package io.github.grad4j.experiments.meta;

import io.github.grad4j.tensor.Tensor;

/**
 * What a few-shot model computes for one episode.
 *
 * @param loss        the training loss (a scalar in the graph), or null when query labels are unknown
 * @param queryScores per-query class scores [Nq, ways] (ProtoNet: logits; TPN: rows of F*)
 * @param predictions argmax class of each query
 * @param accuracy    fraction of queries predicted correctly, NaN when query labels are unknown
 */
public record EpisodeResult(Tensor loss, Tensor queryScores, int[] predictions, double accuracy) {

    /** Predictions and accuracy from the scores; {@code queryLabels} may be null. */
    static EpisodeResult of(Tensor loss, Tensor queryScores, int[] queryLabels) {
        int[] predictions = queryScores.detach().argmax(1).toIntArray();
        double accuracy = Double.NaN;
        if (queryLabels != null) {
            int correct = 0;
            for (int i = 0; i < predictions.length; i++) if (predictions[i] == queryLabels[i]) correct++;
            accuracy = predictions.length == 0 ? Double.NaN : (double) correct / predictions.length;
        }
        return new EpisodeResult(loss, queryScores, predictions, accuracy);
    }
}
