package io.github.grad4j.experiments.meta;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.BatchNorm2d;
import io.github.grad4j.nn.Conv2d;
import io.github.grad4j.nn.Flatten;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.MaxPool2d;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.ops.LinearAlgebra;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;
import io.github.grad4j.tensor.Rng;

/**
 * Transductive Propagation Network (Liu et al., ICLR 2019), following the official PyTorch code
 * (csyanbin/TPN-pytorch): support and query images are embedded together, a graph-construction
 * network gives each example a scale sigma_i, the examples form a kNN graph with weights
 * W_ij = exp(-0.5 mean_d (f_i/sigma_i - f_j/sigma_j)^2), and labels propagate over the
 * symmetrically normalized graph in closed form, F* = (I - alpha S)^-1 Y.
 *
 * <p>Shapes for 28x28 Omniglot: the graph-construction network g_phi (TPN's "relation" module:
 * Conv3x3 BN ReLU MaxPool(2, pad 1), twice, then FC(->8) ReLU FC(8->1)) reads the Conv-4 map
 * <em>before its last pooling</em>, [filters, 3, 3]; its two paddded poolings give 2x2 and 2x2,
 * so the first FC is 4 -> 8, the same as TPN's miniImageNet network (5x5 -> 3x3 -> 2x2). The
 * final 64x1x1 map would also fit but leaves the 3x3 convolutions nothing to convolve. The
 * affinity uses the Conv-4 embedding proper (64-d after the last pooling).
 *
 * <p>sigma_i is the raw output of the last FC (no positivity constraint, as in the official
 * code, which adds machine epsilon before dividing); its sign cancels only when sigma_i and
 * sigma_j agree, which training arranges. alpha is either the fixed 0.99 or learned as
 * sigmoid(a) with a initialized to logit(0.99), which keeps it in (0, 1) so I - alpha S stays
 * invertible (S's eigenvalues lie in [-1, 1]).
 */
public class Tpn extends FewShotModel {
    /** TPN's propagation strength. */
    public static final double DEFAULT_ALPHA = 0.99;
    /** TPN's neighbours per row of the graph. */
    public static final int DEFAULT_K = 20;
    /** numpy's float64 machine epsilon, added to sigma as the official code does. */
    private static final double SIGMA_EPS = Math.ulp(1.0);

    private final Conv4 encoder;
    private final Sequential graphNetwork;
    private final int k;
    private final boolean learnAlpha;
    private final double fixedAlpha;

    /**
     * @param encoder    the Conv-4 embedding
     * @param k          neighbours kept per row (all when an episode has fewer nodes)
     * @param alpha      the fixed alpha, or the initial value of a learned one; in (0, 1)
     * @param learnAlpha whether alpha is a trained parameter ("alpha_logit")
     */
    public Tpn(Conv4 encoder, int k, double alpha, boolean learnAlpha, Rng rng, DType dtype) {
        if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("Tpn: alpha must be in (0, 1), got " + alpha);
        if (k < 1) throw new IllegalArgumentException("Tpn: k must be at least 1, got " + k);
        this.encoder = registerModule("encoder", encoder);
        this.k = k;
        this.learnAlpha = learnAlpha;
        this.fixedAlpha = alpha;
        int filters = encoder.filters();
        int side = Conv4.spatialSizeBeforeLastPool(encoder.imageSize());
        int afterGraphPools = paddedPoolSize(paddedPoolSize(side));
        this.graphNetwork = registerModule("graph", new Sequential(
                new Conv2d(filters, filters, 3, 1, 1, true, rng, dtype),
                new BatchNorm2d(filters, 1e-5, 0.1, true, true, dtype),
                new ReLU(),
                new MaxPool2d(2, 2, 1),
                new Conv2d(filters, 1, 3, 1, 1, true, rng, dtype),
                new BatchNorm2d(1, 1e-5, 0.1, true, true, dtype),
                new ReLU(),
                new MaxPool2d(2, 2, 1),
                new Flatten(),
                new Linear(afterGraphPools * afterGraphPools, 8, true, rng, dtype),
                new ReLU(),
                new Linear(8, 1, true, rng, dtype)));
        if (learnAlpha) {
            registerParameter("alpha_logit", Tensor.of(new double[]{Math.log(alpha / (1 - alpha))}, dtype, 1));
        }
    }

    /** MaxPool(2, stride 2, pad 1) output size: floor((n + 2 - 2) / 2) + 1. */
    private static int paddedPoolSize(int n) {
        return n / 2 + 1;
    }

    public Conv4 encoder() {
        return encoder;
    }

    @Override
    public String method() {
        return "tpn";
    }

    /** The current alpha as a scalar tensor [1] (in the graph when learned). */
    public Tensor alpha(DType dtype) {
        if (learnAlpha) return param("alpha_logit").sigmoid();
        return Tensor.of(new double[]{fixedAlpha}, dtype, 1);
    }

    @Override
    public EpisodeResult forward(EpisodeBatch episode) {
        int supportCount = episode.support().size(0);
        int queryCount = episode.query().size(0);
        Conv4.Features features = encoder.features(supportThenQuery(episode));
        Tensor sigma = graphNetwork.forward(features.beforeLastPool());                  // [N, 1]
        Tensor embedding = features.embedding();
        Tensor weights = affinity(embedding, sigma);
        int nodes = supportCount + queryCount;
        Tensor masked = weights.mul(knnMask(weights, Math.min(k, nodes)));
        Tensor labelsIn = initialLabels(episode.supportLabels(), queryCount, episode.ways(), embedding.dtype());
        Tensor propagated = propagate(normalize(masked), labelsIn.to(embedding.backend()),
                alpha(embedding.dtype()).to(embedding.backend()));                          // [N, ways]
        Tensor queryScores = propagated.narrow(0, supportCount, queryCount);
        Tensor loss = null;
        if (episode.queryLabels() != null) {
            int[] all = new int[nodes];
            System.arraycopy(episode.supportLabels(), 0, all, 0, supportCount);
            System.arraycopy(episode.queryLabels(), 0, all, supportCount, queryCount);
            loss = Functional.crossEntropy(propagated, Tensor.ofInts(all, nodes).to(propagated.backend()));
        }
        return EpisodeResult.of(loss, queryScores, episode.queryLabels());
    }

    /**
     * W_ij = exp(-0.5 * mean_d (f_i/sigma_i - f_j/sigma_j)^2) for features [N, D] and scales
     * [N, 1]; the diagonal is exp(0) = 1 and kept. Computed from the explicit differences, as the
     * official code, so it is exact (no |a|^2 + |b|^2 - 2ab cancellation).
     */
    public static Tensor affinity(Tensor features, Tensor sigma) {
        if (features.dim() != 2 || sigma.dim() != 2 || sigma.size(0) != features.size(0) || sigma.size(1) != 1) {
            throw new IllegalArgumentException("Tpn.affinity: features " + Shape.str(features.shape())
                    + " should be [N, D] and sigma " + Shape.str(sigma.shape()) + " [N, 1]");
        }
        Tensor scaled = features.div(sigma.add(SIGMA_EPS));
        Tensor difference = scaled.unsqueeze(1).sub(scaled.unsqueeze(0));                  // [N, N, D]
        return difference.square().mean(2).mul(-0.5).exp();
    }

    /**
     * The kNN mask [N, N] of TPN: 1 where j is among the k largest entries of row i of W or i among
     * those of row j (the symmetric union), else 0. A constant: no gradient flows through it.
     */
    public static Tensor knnMask(Tensor weights, int k) {
        int n = weights.size(0);
        int[] top;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            top = Indexing.topkIndices(weights.detach(), k, true).toIntArray();
        }
        double[] mask = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int r = 0; r < k; r++) {
                int j = top[i * k + r];
                mask[i * n + j] = 1;
                mask[j * n + i] = 1;
            }
        }
        return Tensor.of(mask, weights.dtype(), n, n).to(weights.backend());
    }

    /**
     * S = D^-1/2 W D^-1/2 with D the column sums of W. The kept diagonal makes every sum at least
     * W_ii = 1, so no epsilon is needed against division by zero.
     */
    public static Tensor normalize(Tensor weights) {
        Tensor inverseSqrtDegree = weights.sum(0).sqrt().pow(-1.0);                          // [N]
        return weights.mul(inverseSqrtDegree.unsqueeze(1)).mul(inverseSqrtDegree.unsqueeze(0));
    }

    /** F* = (I - alpha S)^-1 Y, by a linear solve (differentiable in S, Y and alpha). */
    public static Tensor propagate(Tensor normalized, Tensor labels, Tensor alpha) {
        int n = normalized.size(0);
        Tensor identity = Tensor.eye(n, normalized.dtype()).to(normalized.backend());
        return LinearAlgebra.solve(identity.sub(normalized.mul(alpha)), labels);
    }

    /** Y [Ns + Nq, ways]: one-hot rows for the support, zero rows for the queries. */
    public static Tensor initialLabels(int[] supportLabels, int queryCount, int ways, DType dtype) {
        double[] y = new double[(supportLabels.length + queryCount) * ways];
        for (int i = 0; i < supportLabels.length; i++) y[i * ways + supportLabels[i]] = 1;
        return Tensor.of(y, dtype, supportLabels.length + queryCount, ways);
    }
}
