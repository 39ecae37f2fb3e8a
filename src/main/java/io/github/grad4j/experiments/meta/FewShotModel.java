package io.github.grad4j.experiments.meta;

import io.github.grad4j.nn.Module;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Tensor;

/**
 * A metric-based few-shot learner: one forward pass over a whole episode gives the loss and the
 * query predictions. Subclasses embed support and query images together (one batch, so batch norm
 * in training mode sees the whole episode, as in the reference implementations).
 */
public abstract class FewShotModel extends Module {

    /** Loss (when query labels are known), query scores, predictions and accuracy for one episode. */
    public abstract EpisodeResult forward(EpisodeBatch episode);

    /** The method's name as the command line spells it ("protonet", "tpn"). */
    public abstract String method();

    /** Support then query images in one batch [Ns + Nq, 1, S, S]. */
    protected static Tensor supportThenQuery(EpisodeBatch episode) {
        return Views.concat(0, episode.support(), episode.query());
    }
}
