package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.FewShotModel;
import io.github.grad4j.experiments.meta.PrototypicalNetwork;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Tensor;

import java.nio.file.Path;

/**
 * A trained prototypical network used as one fixed member of the mixture. It runs in evaluation
 * mode (batch norm with its running statistics) and without recording a graph, so nothing that
 * the mixture computes can reach its weights: the WPN is trained with the learners frozen.
 */
public final class FrozenLearner {
    private final String name;
    private final PrototypicalNetwork model;
    private final Path folder;

    /** What the learner makes of one episode: its support summary and its query log-probabilities. */
    public record View(double[] summary, Tensor queryLogProbabilities) {
    }

    /**
     * @param name   how tables and plots call it
     * @param model  a trained prototypical network (TPN learners are not supported yet)
     * @param folder the training folder it was loaded from, or null (recorded when an MxML model is saved)
     */
    public FrozenLearner(String name, FewShotModel model, Path folder) {
        if (!(model instanceof PrototypicalNetwork protoNet)) {
            throw new IllegalArgumentException("MxML learner '" + name + "' is a " + model.method()
                    + " model; only protonet learners can be mixed (their prototypes give the support summary)");
        }
        this.name = name;
        this.model = protoNet;
        this.folder = folder;
        this.model.eval();
    }

    public String name() {
        return name;
    }

    public PrototypicalNetwork model() {
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
     * returns log-softmax of minus the squared distances to the prototypes, converted to
     * {@code outputDType}. No graph is recorded.
     */
    public View view(EpisodeBatch episode, DType outputDType) {
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            int supportCount = episode.support().size(0);
            Tensor embeddings = model.encoder().forward(Views.concat(0, episode.support(), episode.query()));
            Tensor support = embeddings.narrow(0, 0, supportCount);
            Tensor query = embeddings.narrow(0, supportCount, episode.query().size(0));
            Tensor prototypes = PrototypicalNetwork.prototypes(support, episode.supportLabels(), episode.ways());
            Tensor logProbabilities = PrototypicalNetwork.negativeSquaredDistances(query, prototypes).logSoftmax(1);
            double[] summary = SupportSummary.of(support, episode.supportLabels(), episode.ways());
            Tensor out = logProbabilities.dtype() == outputDType ? logProbabilities : logProbabilities.toDType(outputDType);
            return new View(summary, out.detach());
        }
    }
}
