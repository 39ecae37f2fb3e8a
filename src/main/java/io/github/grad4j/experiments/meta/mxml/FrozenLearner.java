package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.Conv4;
import io.github.grad4j.experiments.meta.PrototypicalNetwork;
import io.github.grad4j.experiments.meta.Tpn;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Tensor;

import java.nio.file.Path;

/**
 * A trained metric learner (prototypical network or TPN) used as one fixed member of the mixture.
 * It runs in evaluation mode (batch norm with its running statistics) and without recording a
 * graph, so nothing that the mixture computes can reach its weights: the WPN is trained with the
 * learners frozen. Its p(y|x) is the softmax of its query scores (negative squared distances to the
 * prototypes, or TPN's propagated labels, on which TPN's own loss is the cross-entropy); the support
 * summary comes from its Conv-4 embeddings in both cases.
 */
public final class FrozenLearner {
    private final String name;
    private final FewShotModel model;
    private final Conv4 encoder;
    private final Path folder;

    /** What the learner makes of one episode: its support summary and its query log-probabilities. */
    public record View(double[] summary, Tensor queryLogProbabilities) {
    }

    /**
     * @param name   how tables and plots call it
     * @param model  a trained prototypical network or TPN
     * @param folder the training folder it was loaded from, or null (recorded when an MxML model is saved)
     */
    public FrozenLearner(String name, FewShotModel model, Path folder) {
        if (model instanceof PrototypicalNetwork protoNet) {
            this.encoder = protoNet.encoder();
        } else if (model instanceof Tpn tpn) {
            this.encoder = tpn.encoder();
        } else {
            throw new IllegalArgumentException("MxML learner '" + name + "' is a " + model.method()
                    + " model; protonet and tpn learners can be mixed");
        }
        this.name = name;
        this.model = model;
        this.folder = folder;
        this.model.eval();
    }

    public String name() {
        return name;
    }

    /** The learner's Conv-4 embedding network. */
    public Conv4 encoder() {
        return encoder;
    }

    public FewShotModel model() {
        return model;
    }

    /** The training folder, or null. */
    public Path folder() {
        return folder;
    }

    /** The learner's parameters' dtype: episodes must be given in it. */
    public DType dtype() {
        return model.parameters().get(0).dtype();
    }

    /**
     * Embeds support and query together (as the learner was evaluated), summarizes the support and
     * returns the log-softmax of the learner's query scores, converted to {@code outputDType}. No
     * graph is recorded.
     */
    public View view(EpisodeBatch episode, DType outputDType) {
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            int supportCount = episode.support().size(0);
            Tensor embeddings = encoder.forward(Views.concat(0, episode.support(), episode.query()));
            Tensor support = embeddings.narrow(0, 0, supportCount);
            Tensor scores;
            if (model instanceof PrototypicalNetwork) {
                Tensor query = embeddings.narrow(0, supportCount, episode.query().size(0));
                Tensor prototypes = PrototypicalNetwork.prototypes(support, episode.supportLabels(), episode.ways());
                scores = PrototypicalNetwork.negativeSquaredDistances(query, prototypes);
            } else {
                scores = model.forward(episode).queryScores(); // TPN embeds again inside: analysis only, once per episode
            }
            Tensor logProbabilities = scores.logSoftmax(1);
            double[] summary = SupportSummary.of(support, episode.supportLabels(), episode.ways());
            Tensor out = logProbabilities.dtype() == outputDType ? logProbabilities : logProbabilities.toDType(outputDType);
            return new View(summary, out.detach());
        }
    }
}
