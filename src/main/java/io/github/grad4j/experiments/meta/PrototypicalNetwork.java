package io.github.grad4j.experiments.meta;

import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * Prototypical networks (Snell et al. 2017): each class's prototype is the mean of its support
 * embeddings, a query's logit for a class is minus its squared Euclidean distance to the
 * prototype, and the loss is the cross-entropy of the queries.
 */
public class PrototypicalNetwork extends FewShotModel {
    private final Conv4 encoder;

    public PrototypicalNetwork(Conv4 encoder) {
        this.encoder = registerModule("encoder", encoder);
    }

    public Conv4 encoder() {
        return encoder;
    }

    @Override
    public String method() {
        return "protonet";
    }

    @Override
    public EpisodeResult forward(EpisodeBatch episode) {
        int supportCount = episode.support().size(0);
        Tensor embeddings = encoder.forward(supportThenQuery(episode));
        Tensor support = embeddings.narrow(0, 0, supportCount);
        Tensor query = embeddings.narrow(0, supportCount, episode.query().size(0));
        Tensor logits = negativeSquaredDistances(query, prototypes(support, episode.supportLabels(), episode.ways()));
        Tensor loss = episode.queryLabels() == null ? null
                : Functional.crossEntropy(logits, Tensor.ofInts(episode.queryLabels(), episode.queryLabels().length)
                .to(logits.backend()));
        return EpisodeResult.of(loss, logits, episode.queryLabels());
    }

    /**
     * Class means of the support embeddings [Ns, D] as [ways, D]. Classes may have different
     * support counts: the mean is an averaging matrix (row c holds 1/count_c at the support images
     * of class c) times the embeddings, so every class is divided by its own count.
     */
    public static Tensor prototypes(Tensor supportEmbeddings, int[] supportLabels, int ways) {
        if (supportEmbeddings.dim() != 2 || supportEmbeddings.size(0) != supportLabels.length) {
            throw new IllegalArgumentException("prototypes: embeddings " + Shape.str(supportEmbeddings.shape())
                    + " should be [" + supportLabels.length + ", D] for " + supportLabels.length + " labels");
        }
        int[] counts = new int[ways];
        for (int label : supportLabels) counts[label]++;
        double[] averaging = new double[ways * supportLabels.length];
        for (int i = 0; i < supportLabels.length; i++) {
            averaging[supportLabels[i] * supportLabels.length + i] = 1.0 / counts[supportLabels[i]];
        }
        for (int c = 0; c < ways; c++) {
            if (counts[c] == 0) throw new IllegalArgumentException("prototypes: class " + c + " has no support embedding");
        }
        Tensor matrix = Tensor.of(averaging, supportEmbeddings.dtype(), ways, supportLabels.length)
                .to(supportEmbeddings.backend());
        return matrix.matmul(supportEmbeddings);
    }

    /** -||q_i - p_c||^2 for queries [Nq, D] and prototypes [C, D], as [Nq, C]; exact (no expansion trick). */
    public static Tensor negativeSquaredDistances(Tensor queries, Tensor prototypes) {
        Tensor difference = queries.unsqueeze(1).sub(prototypes.unsqueeze(0));   // [Nq, C, D]
        return difference.square().sum(2).neg();
    }
}
