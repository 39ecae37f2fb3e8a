package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

import static io.github.grad4j.ops.OpSupport.*;

/** Neural-network functions: softmax family, losses, normalization, dropout, linear. */
public final class Functional {
    private Functional() {
    }

    // ---------------------------------------------------------------- softmax

    /**
     * softmax along an axis. Forward shifts by the row maximum for stability; backward is
     * y * (g - sum(g * y)), written in differentiable ops on the output y, so it can be
     * differentiated again.
     */
    public static Tensor softmax(Tensor x, int axis) {
        requireFloat("softmax", "x", x);
        int a = Shape.axis("softmax", axis, x.dim());
        Tensor y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor e = Pointwise.exp(Pointwise.sub(x, Reductions.max(x, a, true)));
            y = Pointwise.div(e, Reductions.sum(e, true, a));
        }
        Tensor out = y;
        return record(out, "softmax", x, g ->
                new Tensor[]{Pointwise.mul(out, Pointwise.sub(g, Reductions.sum(Pointwise.mul(g, out), true, a)))});
    }

    /** log(softmax(x)) along an axis = x - logsumexp(x); backward g - softmax(x) * sum(g). */
    public static Tensor logSoftmax(Tensor x, int axis) {
        requireFloat("logSoftmax", "x", x);
        int a = Shape.axis("logSoftmax", axis, x.dim());
        Tensor y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            y = Pointwise.sub(x, Reductions.logsumexp(x, a, true));
        }
        Tensor out = y;
        return record(out, "logSoftmax", x, g ->
                new Tensor[]{Pointwise.sub(g, Pointwise.mul(Pointwise.exp(out), Reductions.sum(g, true, a)))});
    }

    // ---------------------------------------------------------------- losses

    /** How a per-element loss is reduced. */
    public enum Reduction { MEAN, SUM, NONE }

    /**
     * Cross-entropy of logits [N, C] against class indices (INT32 [N]). Targets equal to
     * {@code ignoreIndex} contribute nothing and are left out of the mean (as in PyTorch; a batch
     * where every target is ignored gives NaN for MEAN).
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Reduction reduction) {
        requireFloat("crossEntropy", "logits", logits);
        requireRank("crossEntropy", "logits", logits, 2);
        requireIndex("crossEntropy", "targets", targets);
        if (targets.dim() != 1 || targets.size(0) != logits.size(0)) {
            throw new IllegalArgumentException("crossEntropy: targets " + Shape.str(targets.shape())
                    + " must be [N] for logits " + Shape.str(logits.shape()));
        }
        int classes = logits.size(1);
        int[] t = targets.toIntArray();
        boolean anyIgnored = false;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == ignoreIndex) {
                anyIgnored = true;
            } else if (t[i] < 0 || t[i] >= classes) {
                throw new IndexOutOfBoundsException("crossEntropy: target " + t[i] + " at position " + i
                        + " is not a class index in [0, " + classes + ")");
            }
        }
        Tensor logp = logSoftmax(logits, 1);
        Tensor safeTargets = targets;
        Tensor keep = null;
        if (anyIgnored) {
            int[] safe = t.clone();
            double[] k = new double[t.length];
            for (int i = 0; i < t.length; i++) {
                k[i] = t[i] == ignoreIndex ? 0 : 1;
                if (t[i] == ignoreIndex) safe[i] = 0;
            }
            safeTargets = new Tensor(targets.backend().upload(safe), new int[]{t.length});
            keep = new Tensor(targets.backend().upload(k, logits.dtype()), new int[]{t.length});
        }
        Tensor picked = Views.reshape(Indexing.gather(logp, 1, Views.reshape(safeTargets, t.length, 1)), t.length);
        Tensor losses = Pointwise.neg(picked);
        if (keep != null) losses = Pointwise.mul(losses, keep);
        switch (reduction) {
            case NONE: return losses;
            case SUM: return Reductions.sum(losses, false);
            default: {
                double count = keep == null ? t.length : Arrays.stream(keep.toDoubleArray()).sum();
                return Pointwise.div(Reductions.sum(losses, false), losses.constant(count));
            }
        }
    }

    /** Mean cross-entropy without an ignore index. */
    public static Tensor crossEntropy(Tensor logits, Tensor targets) {
        return crossEntropy(logits, targets, Integer.MIN_VALUE, Reduction.MEAN);
    }

    /** Mean squared error. */
    public static Tensor mseLoss(Tensor prediction, Tensor target) {
        Tensor d = Pointwise.sub(prediction, target);
        return Reductions.mean(Pointwise.mul(d, d), false);
    }

    // ---------------------------------------------------------------- linear

    /** x W^T + b, with W [out, in] (PyTorch's nn.Linear layout); b may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Tensor y = LinearAlgebra.matmul(x, weight.mT());
        return bias == null ? y : Pointwise.add(y, bias);
    }

    // ---------------------------------------------------------------- normalization

    /**
     * Layer normalization over the last {@code normalizedShape.length} axes (biased variance, as
     * PyTorch and GPT-2), then an optional elementwise affine transform.
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        int k = normalizedShape.length;
        if (k > x.dim() || !Arrays.equals(Arrays.copyOfRange(x.shape(), x.dim() - k, x.dim()), normalizedShape)) {
            throw new IllegalArgumentException("layerNorm: normalized shape " + Shape.str(normalizedShape)
                    + " does not match the trailing axes of " + Shape.str(x.shape()));
        }
        int[] axes = new int[k];
        for (int i = 0; i < k; i++) axes[i] = x.dim() - k + i;
        Tensor mean = Reductions.mean(x, true, axes);
        Tensor centered = Pointwise.sub(x, mean);
        Tensor var = Reductions.mean(Pointwise.mul(centered, centered), true, axes);
        Tensor y = Pointwise.div(centered, Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        if (weight != null) y = Pointwise.mul(y, weight);
        if (bias != null) y = Pointwise.add(y, bias);
        return y;
    }

    /**
     * Batch normalization over axis 1 of x [N, C, ...]. In training the batch statistics
     * normalize (biased variance) and the running statistics are updated in place with
     * {@code momentum} (unbiased variance, as PyTorch); in evaluation the running statistics
     * normalize. Running statistics may be null (then training always uses batch statistics).
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        if (x.dim() < 2) throw new IllegalArgumentException("batchNorm: expected [N, C, ...], got " + Shape.str(x.shape()));
        int c = x.size(1);
        int[] statShape = new int[x.dim()];
        Arrays.fill(statShape, 1);
        statShape[1] = c;
        int[] axes = new int[x.dim() - 1];
        axes[0] = 0;
        for (int d = 2; d < x.dim(); d++) axes[d - 1] = d;
        Tensor mean, var;
        if (training || runningMean == null) {
            int count = x.numel() / Math.max(c, 1);
            if (training && count <= 1) {
                throw new IllegalArgumentException("batchNorm: training needs more than one value per channel, got input "
                        + Shape.str(x.shape()));
            }
            mean = Reductions.mean(x, true, axes);
            Tensor centered = Pointwise.sub(x, mean);
            var = Reductions.mean(Pointwise.mul(centered, centered), true, axes);
            if (training && runningMean != null) {
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    Tensor m = Views.reshape(mean.detach(), c);
                    Tensor v = Pointwise.mul(Views.reshape(var.detach(), c), m.constant((double) count / (count - 1)));
                    runningMean.assign(Pointwise.add(Pointwise.mul(runningMean, m.constant(1 - momentum)),
                            Pointwise.mul(m, m.constant(momentum))));
                    runningVar.assign(Pointwise.add(Pointwise.mul(runningVar, m.constant(1 - momentum)),
                            Pointwise.mul(v, m.constant(momentum))));
                }
            }
            Tensor y = Pointwise.div(centered, Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
            return affine(y, weight, bias, statShape);
        }
        mean = Views.reshape(runningMean, statShape);
        var = Views.reshape(runningVar, statShape);
        Tensor y = Pointwise.div(Pointwise.sub(x, mean), Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        return affine(y, weight, bias, statShape);
    }

    private static Tensor affine(Tensor y, Tensor weight, Tensor bias, int[] statShape) {
        if (weight != null) y = Pointwise.mul(y, Views.reshape(weight, statShape));
        if (bias != null) y = Pointwise.add(y, Views.reshape(bias, statShape));
        return y;
    }

    // ---------------------------------------------------------------- dropout

    /** Zeroes each element with probability p and scales the rest by 1/(1-p); identity when not training. */
    public static Tensor dropout(Tensor x, double p, boolean training, Rng rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout: p = " + p + " is outside [0, 1)");
        if (!training || p == 0) return x;
        double[] mask = new double[x.numel()];
        double scale = 1.0 / (1.0 - p);
        for (int i = 0; i < mask.length; i++) mask[i] = rng.nextDouble() < p ? 0.0 : scale;
        Tensor m = new Tensor(x.backend().upload(mask, x.dtype()), x.shape());
        return Pointwise.mul(x, m);
    }

    /** Mask of allowed attention positions: 1 on and below the diagonal of a [T, T] matrix. */
    public static Tensor causalMask(int t, DType dtype, io.github.grad4j.backend.Backend backend) {
        double[] d = new double[t * t];
        for (int i = 0; i < t; i++) for (int j = 0; j <= i; j++) d[i * t + j] = 1;
        return new Tensor(backend.upload(d, dtype), new int[]{t, t});
    }
}
