package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Strided;
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
        if (Fusion.enabled() && a == x.dim() - 1) {
            y = softmaxRowsKernel(x, false);
        } else {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                Tensor e = Pointwise.exp(Pointwise.sub(x, Reductions.max(x, a, true)));
                y = Pointwise.div(e, Reductions.sum(e, true, a));
            }
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
        if (Fusion.enabled() && a == x.dim() - 1) {
            y = softmaxRowsKernel(x, true);
        } else {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                y = Pointwise.sub(x, Reductions.logsumexp(x, a, true));
            }
        }
        Tensor out = y;
        return record(out, "logSoftmax", x, g ->
                new Tensor[]{Pointwise.sub(g, Pointwise.mul(Pointwise.exp(out), Reductions.sum(g, true, a)))});
    }

    /** The backend's softmaxRows over the last axis of x (no graph). */
    private static Tensor softmaxRowsKernel(Tensor x, boolean log) {
        int c = x.dim() == 0 ? 1 : x.size(-1);
        int rows = c == 0 ? 0 : x.numel() / c;
        Tensor xc = Views.contiguous(x.detach());
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        if (x.numel() > 0) {
            int[] shape2 = {rows, c};
            x.backend().softmaxRows(new io.github.grad4j.backend.Strided(xc.storage(), xc.offset(), shape2,
                    io.github.grad4j.backend.Strided.rowMajorStrides(shape2)), flat2(out, rows, c), log);
        }
        return out;
    }

    /** A contiguous tensor's elements as a [rows, cols] kernel view. */
    private static io.github.grad4j.backend.Strided flat2(Tensor t, int rows, int cols) {
        int[] shape2 = {rows, cols};
        return new io.github.grad4j.backend.Strided(t.storage(), t.offset(), shape2,
                io.github.grad4j.backend.Strided.rowMajorStrides(shape2));
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
        if (Fusion.enabled()) {
            Tensor losses = crossEntropyRows(logits, targets, t, ignoreIndex);
            switch (reduction) {
                case NONE: return losses;
                case SUM: return Reductions.sum(losses, false);
                default: {
                    int count = 0;
                    for (int ti : t) if (ti != ignoreIndex) count++;
                    return Pointwise.div(Reductions.sum(losses, false), losses.constant(count == 0 ? Double.NaN : count));
                }
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
        // the targets were range-checked above: gather need not read them back from the device again
        Tensor picked = Views.reshape(Indexing.gatherCheckedIndices(logp, 1, Views.reshape(safeTargets, t.length, 1)), t.length);
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

    /**
     * Per-row cross-entropy [N] (0 where ignored) from the backend's fused kernel, which never
     * materializes log-probabilities: it keeps the row logsumexp, and the first-order backward
     * writes (softmax - onehot) * g in one pass. With createGraph the backward is built from
     * differentiable ops instead (softmax(logits) - onehot) * g, so second derivatives work.
     */
    private static Tensor crossEntropyRows(Tensor logits, Tensor targets, int[] t, int ignoreIndex) {
        int n = logits.size(0), classes = logits.size(1);
        Tensor x = Views.contiguous(logits.detach());
        Tensor idx = Views.contiguous(targets);
        Tensor keep = null;
        boolean anyIgnored = false;
        for (int ti : t) anyIgnored |= ti == ignoreIndex;
        if (anyIgnored) { // in-range targets and a 0/1 row mask, uploaded only when some row is left out
            int[] safe = t.clone();
            double[] k = new double[n];
            for (int i = 0; i < n; i++) {
                k[i] = t[i] == ignoreIndex ? 0 : 1;
                if (t[i] == ignoreIndex) safe[i] = 0;
            }
            idx = new Tensor(logits.backend().upload(safe), new int[]{n});
            keep = new Tensor(logits.backend().upload(k, logits.dtype()), new int[]{n});
        }
        Tensor safeTargets = idx, rowKeep = keep;
        Tensor losses = empty(logits.backend(), logits.dtype(), new int[]{n});
        Tensor lse = empty(logits.backend(), logits.dtype(), new int[]{n});
        logits.backend().crossEntropyRows(flat2(x, n, classes), flat1(idx), keep == null ? null : flat1(keep),
                flat1(losses), flat1(lse));
        return record(losses, "crossEntropy", logits, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gl = Views.contiguous(g);
                Tensor out = empty(logits.backend(), logits.dtype(), new int[]{n, classes});
                logits.backend().crossEntropyBackwardRows(flat2(x, n, classes), flat1(lse), flat1(safeTargets),
                        rowKeep == null ? null : flat1(rowKeep), flat1(gl), flat2(out, n, classes));
                return new Tensor[]{out};
            }
            Tensor oneHot = Indexing.oneHot(safeTargets, classes, logits.dtype());
            Tensor rowScale = Views.reshape(rowKeep == null ? g : Pointwise.mul(g, rowKeep), n, 1);
            return new Tensor[]{Pointwise.mul(Pointwise.sub(softmax(logits, 1), oneHot), rowScale)};
        });
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
        if (Fusion.enabled() && k > 0 && x.numel() > 0 && x.dtype().isFloatingPoint()
                && (weight == null || Arrays.equals(weight.shape(), normalizedShape))
                && (bias == null || Arrays.equals(bias.shape(), normalizedShape))) {
            return layerNormFused(x, normalizedShape, axes, weight, bias, eps);
        }
        Tensor mean = Reductions.mean(x, true, axes);
        Tensor centered = Pointwise.sub(x, mean);
        Tensor var = Reductions.mean(Pointwise.mul(centered, centered), true, axes);
        Tensor y = Pointwise.div(centered, Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        if (weight != null) y = Pointwise.mul(y, weight);
        if (bias != null) y = Pointwise.add(y, bias);
        return y;
    }

    /**
     * layerNorm through the backend's fused rows kernel (mean and rstd kept). The first-order
     * backward is the fused kernel; with createGraph it is built from differentiable ops:
     * gradX = rstd (gh - mean(gh) - xhat mean(gh xhat)), gh = g w, with xhat and rstd recomputed
     * from x, so second derivatives work.
     */
    private static Tensor layerNormFused(Tensor x, int[] normalizedShape, int[] axes, Tensor weight, Tensor bias, double eps) {
        int c = Shape.numel(normalizedShape);
        int rows = x.numel() / c;
        Tensor xc = Views.contiguous(x.detach());
        Tensor wc = weight == null ? null : Views.contiguous(weight.detach());
        Tensor bc = bias == null ? null : Views.contiguous(bias.detach());
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        Tensor mean = empty(x.backend(), x.dtype(), new int[]{rows});
        Tensor rstd = empty(x.backend(), x.dtype(), new int[]{rows});
        x.backend().layerNormRows(flat2(xc, rows, c), wc == null ? null : flat1(wc), bc == null ? null : flat1(bc), eps,
                flat2(out, rows, c), flat1(mean), flat1(rstd));
        int[] lead = new int[x.dim() - axes.length];
        for (int i = 0; i < lead.length; i++) lead[i] = i;
        return record(out, "layerNorm", new Tensor[]{x, weight, bias}, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gc = Views.contiguous(g);
                Tensor gx = wants(x) ? empty(x.backend(), x.dtype(), x.shape()) : null;
                Tensor gw = wants(weight) ? empty(x.backend(), x.dtype(), normalizedShape) : null;
                Tensor gb = wants(bias) ? empty(x.backend(), x.dtype(), normalizedShape) : null;
                x.backend().layerNormBackwardRows(flat2(gc, rows, c), flat2(xc, rows, c), wc == null ? null : flat1(wc),
                        flat1(mean), flat1(rstd), gx == null ? null : flat2(gx, rows, c),
                        gw == null ? null : flat1(gw), gb == null ? null : flat1(gb));
                return new Tensor[]{gx, gw, gb};
            }
            return normalizationBackward(g, x, weight, weight, bias, axes, lead, eps);
        });
    }

    /**
     * Batch normalization over axis 1 of x [N, C, ...]. In training the batch statistics
     * normalize (biased variance) and the running statistics are updated in place with
     * {@code momentum} (unbiased variance, as PyTorch); in evaluation the running statistics
     * normalize. Running statistics may be null (then training always uses batch statistics).
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, false, false);
    }

    /**
     * relu({@link #batchNorm}): the same values and gradients, but with batch statistics the
     * rectified output is written in the normalizing pass and the backward masks the incoming
     * gradient as it goes, so neither the normalized activations nor ReLU's gradient is a
     * separate array (two fewer passes over the activations each way).
     */
    public static Tensor batchNormRelu(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                       boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, true, false);
    }

    /**
     * maxPool2d(relu({@link #batchNorm}(x)), 2, 2, 0) for x [N, C, H, W], the block of a Conv-4
     * network: the same values and gradients, but with batch statistics each plane is normalized,
     * rectified and pooled in cache, so only the pooled values are written, and the backward
     * rebuilds each plane's gradient in cache instead of scattering it into a full-size array.
     */
    public static Tensor batchNormReluMaxPool2x2(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                                 boolean training, double momentum, double eps) {
        requireRank("batchNormReluMaxPool2x2", "x", x, 4);
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, true, true);
    }

    /** Batch norm, then ReLU when {@code relu}, then 2x2 max pooling when {@code pool} (which implies relu). */
    private static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                    boolean training, double momentum, double eps, boolean relu, boolean pool) {
        if (pool && (x.size(2) < 2 || x.size(3) < 2)) {
            // the same message as the pooling would give
            return Convolution.maxPool2d(batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, true, false), 2, 2, 0);
        }
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
            if (Fusion.enabled() && x.numel() > 0 && x.dtype().isFloatingPoint()
                    && (weight == null || Arrays.equals(weight.shape(), new int[]{c}))
                    && (bias == null || Arrays.equals(bias.shape(), new int[]{c}))) {
                return batchNormFused(x, training ? runningMean : null, training ? runningVar : null,
                        weight, bias, momentum, eps, relu, pool);
            }
            mean = Reductions.mean(x, true, axes);
            Tensor centered = Pointwise.sub(x, mean);
            var = Reductions.mean(Pointwise.mul(centered, centered), true, axes);
            if (training && runningMean != null) {
                updateRunningStatistics(runningMean, runningVar, Views.reshape(mean.detach(), c),
                        Views.reshape(var.detach(), c), count, momentum);
            }
            Tensor y = affine(Pointwise.div(centered, Pointwise.sqrt(Pointwise.add(var, var.constant(eps)))), weight, bias, statShape);
            return rectifyAndPool(y, relu, pool);
        }
        // evaluation: one per-channel scale and shift, so the activations are read twice, not four times
        mean = Views.reshape(runningMean, statShape);
        var = Views.reshape(runningVar, statShape);
        Tensor scale = Pointwise.div(var.constant(1), Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        if (weight != null) scale = Pointwise.mul(scale, Views.reshape(weight, statShape));
        Tensor shift = Pointwise.neg(Pointwise.mul(mean, scale));
        if (bias != null) shift = Pointwise.add(shift, Views.reshape(bias, statShape));
        return rectifyAndPool(Pointwise.add(Pointwise.mul(x, scale), shift), relu, pool);
    }

    private static Tensor rectifyAndPool(Tensor y, boolean relu, boolean pool) {
        if (relu) y = Pointwise.relu(y);
        return pool ? Convolution.maxPool2d(y, 2, 2, 0) : y;
    }

    /**
     * batchNorm with batch statistics through the backend's fused per-channel kernel (x viewed as
     * [N, C, S]; mean and rstd kept for the backward). Running statistics, when given, are updated
     * as in the composite. The first-order backward is the fused kernel; with createGraph it is
     * built from differentiable ops with the statistics recomputed from x (MAML differentiates
     * through batch-norm with batch statistics twice). With {@code relu} the output is rectified in
     * the same kernel and the backward masks g by output &gt; 0 (ReLU's rule) before the same steps.
     */
    private static Tensor batchNormFused(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                         double momentum, double eps, boolean relu, boolean pool) {
        int n = x.size(0), c = x.size(1);
        int s = x.numel() / (n * c);
        Tensor xc = Views.contiguous(x.detach());
        Tensor wc = weight == null ? null : Views.contiguous(weight.detach());
        Tensor bc = bias == null ? null : Views.contiguous(bias.detach());
        Tensor mean = empty(x.backend(), x.dtype(), new int[]{c});
        Tensor var = empty(x.backend(), x.dtype(), new int[]{c});
        Tensor rstd = empty(x.backend(), x.dtype(), new int[]{c});
        if (pool) return batchNormReluPoolFused(x, xc, wc, bc, weight, bias, runningMean, runningVar, mean, var, rstd, momentum, eps);
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        if (relu) {
            x.backend().batchNormReluChannels(flat3(xc, n, c, s), wc == null ? null : flat1(wc), bc == null ? null : flat1(bc),
                    eps, flat3(out, n, c, s), flat1(mean), flat1(var), flat1(rstd));
        } else {
            x.backend().batchNormChannels(flat3(xc, n, c, s), wc == null ? null : flat1(wc), bc == null ? null : flat1(bc),
                    eps, flat3(out, n, c, s), flat1(mean), flat1(var), flat1(rstd));
        }
        if (runningMean != null) updateRunningStatistics(runningMean, runningVar, mean, var, (long) n * s, momentum);
        Tensor y = out.detach();
        return record(out, relu ? "batchNormRelu" : "batchNorm", new Tensor[]{x, weight, bias}, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gc = Views.contiguous(g);
                Tensor gx = wants(x) ? empty(x.backend(), x.dtype(), x.shape()) : null;
                Tensor gw = wants(weight) ? empty(x.backend(), x.dtype(), new int[]{c}) : null;
                Tensor gb = wants(bias) ? empty(x.backend(), x.dtype(), new int[]{c}) : null;
                Strided gxv = gx == null ? null : flat3(gx, n, c, s), gwv = gw == null ? null : flat1(gw), gbv = gb == null ? null : flat1(gb);
                if (relu) {
                    x.backend().batchNormReluChannelsBackward(flat3(gc, n, c, s), flat3(y, n, c, s), flat3(xc, n, c, s),
                            wc == null ? null : flat1(wc), flat1(mean), flat1(rstd), gxv, gwv, gbv);
                } else {
                    x.backend().batchNormChannelsBackward(flat3(gc, n, c, s), flat3(xc, n, c, s),
                            wc == null ? null : flat1(wc), flat1(mean), flat1(rstd), gxv, gwv, gbv);
                }
                return new Tensor[]{gx, gw, gb};
            }
            // ReLU's differentiable rule on the output, then batch norm's
            return batchNormGraphBackward(relu ? Pointwise.reluBackward(g, y) : g, x, weight, bias, eps);
        });
    }

    /** {@link #batchNormReluMaxPool2x2} on the backend's fused kernel; xc, wc, bc the contiguous detached inputs. */
    private static Tensor batchNormReluPoolFused(Tensor x, Tensor xc, Tensor wc, Tensor bc, Tensor weight, Tensor bias,
                                                 Tensor runningMean, Tensor runningVar, Tensor mean, Tensor var, Tensor rstd,
                                                 double momentum, double eps) {
        int[] s = x.shape();
        int n = s[0], c = s[1], oh = s[2] / 2, ow = s[3] / 2;
        int[] pooledShape = {n, c, oh, ow};
        Tensor out = empty(x.backend(), x.dtype(), pooledShape);
        Tensor idx = empty(x.backend(), DType.INT32, pooledShape);
        x.backend().batchNormReluPool2x2(xc.view(), wc == null ? null : flat1(wc), bc == null ? null : flat1(bc), eps,
                out.view(), idx.view(), flat1(mean), flat1(var), flat1(rstd));
        if (runningMean != null) updateRunningStatistics(runningMean, runningVar, mean, var, (long) n * s[2] * s[3], momentum);
        Tensor pooled = out.detach();
        return record(out, "batchNormReluMaxPool2x2", new Tensor[]{x, weight, bias}, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gc = Views.contiguous(g);
                Tensor gx = wants(x) ? empty(x.backend(), x.dtype(), s) : null;
                Tensor gw = wants(weight) ? empty(x.backend(), x.dtype(), new int[]{c}) : null;
                Tensor gb = wants(bias) ? empty(x.backend(), x.dtype(), new int[]{c}) : null;
                x.backend().batchNormReluPool2x2Backward(gc.view(), pooled.view(), idx.view(), xc.view(),
                        wc == null ? null : flat1(wc), flat1(mean), flat1(rstd), gx == null ? null : gx.view(),
                        gw == null ? null : flat1(gw), gb == null ? null : flat1(gb));
                return new Tensor[]{gx, gw, gb};
            }
            return poolGraphBackward(g, pooled, idx, x, weight, bias, eps);
        });
    }

    /**
     * createGraph's backward of batchNormReluMaxPool2x2 at x [N, C, H, W] given its pooled output
     * and positions: ReLU's rule at the maxima, max pooling's scatter, batch norm's differentiable
     * backward; [gradX, gradWeight, gradBias].
     */
    private static Tensor[] poolGraphBackward(Tensor g, Tensor pooled, Tensor idx, Tensor x, Tensor weight, Tensor bias,
                                              double eps) {
        int[] s = x.shape();
        int planes = s[0] * s[1], pooledSize = pooled.size(2) * pooled.size(3);
        Tensor masked = Views.reshape(Pointwise.reluBackward(g, pooled), planes, pooledSize);
        Tensor full = Indexing.scatterAddIntoZeros(new int[]{planes, s[2] * s[3]}, 1, Views.reshape(idx, planes, pooledSize), masked);
        return batchNormGraphBackward(Views.reshape(full, s), x, weight, bias, eps);
    }

    /**
     * maxPool2d(relu(batchNorm(conv2d(x, convWeight, convBias, 1, padding))), 2, 2, 0): a whole
     * Conv-4 block. With batch statistics (training, or no running statistics) and fusion on, it is
     * one op ({@link io.github.grad4j.backend.Backend#convBatchNormReluPool2x2}) that keeps only the
     * pooled output and positions: the convolution's output is recomputed where the backward needs
     * it. That pays when each output costs few multiply-adds (few input channels: the first block of
     * an image network; {@code nn.Conv2d} decides when a Sequential uses it), so that writing and
     * reading back the full-size activations costs more than computing them again. The same values
     * and gradients as the ops in turn, which run otherwise; with createGraph the backward is built
     * from differentiable ops on the recomputed convolution (MAML differentiates the block twice).
     */
    public static Tensor convBatchNormReluMaxPool2x2(Tensor x, Tensor convWeight, Tensor convBias, int padding,
                                                    Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                                    boolean training, double momentum, double eps) {
        String op = "convBatchNormReluMaxPool2x2";
        int[] ys = Convolution.outputShape(op, x, convWeight, convBias, 1, padding);
        int o = ys[1];
        boolean batchStatistics = training || runningMean == null;
        if (!(Fusion.enabled() && batchStatistics && x.dtype().isFloatingPoint() && ys[2] >= 2 && ys[3] >= 2
                && (long) ys[0] * ys[2] * ys[3] > 1 && Arrays.stream(ys).allMatch(d -> d > 0)
                && (weight == null || Arrays.equals(weight.shape(), new int[]{o}))
                && (bias == null || Arrays.equals(bias.shape(), new int[]{o})))) {
            return batchNormReluMaxPool2x2(Convolution.conv2d(x, convWeight, convBias, 1, padding), runningMean, runningVar,
                    weight, bias, training, momentum, eps);
        }
        var backend = convBias == null ? backendOf(op, x, convWeight) : backendOf(op, x, convWeight, convBias);
        DType dtype = sameFloat(op, x, convWeight);
        if (convBias != null) sameFloat(op, x, convBias);
        Tensor xc = Views.contiguous(x.detach()), cwc = Views.contiguous(convWeight.detach());
        Tensor cbc = convBias == null ? null : Views.contiguous(convBias.detach());
        Tensor wc = weight == null ? null : Views.contiguous(weight.detach());
        Tensor bc = bias == null ? null : Views.contiguous(bias.detach());
        int[] pooledShape = {ys[0], o, ys[2] / 2, ys[3] / 2};
        Tensor out = empty(backend, dtype, pooledShape);
        Tensor idx = empty(backend, DType.INT32, pooledShape);
        Tensor mean = empty(backend, dtype, new int[]{o}), var = empty(backend, dtype, new int[]{o});
        Tensor rstd = empty(backend, dtype, new int[]{o});
        backend.convBatchNormReluPool2x2(xc.view(), cwc.view(), cbc == null ? null : cbc.view(), padding, padding,
                wc == null ? null : flat1(wc), bc == null ? null : flat1(bc), eps, out.view(), idx.view(),
                flat1(mean), flat1(var), flat1(rstd));
        if (training && runningMean != null) {
            updateRunningStatistics(runningMean, runningVar, mean, var, (long) ys[0] * ys[2] * ys[3], momentum);
        }
        Tensor pooled = out.detach();
        int[] xShape = x.shape(), wShape = convWeight.shape();
        return record(out, op, new Tensor[]{x, convWeight, convBias, weight, bias}, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gc = Views.contiguous(g);
                Tensor gx = wants(x) ? empty(backend, dtype, xShape) : null;
                Tensor gcw = wants(convWeight) ? empty(backend, dtype, wShape) : null;
                Tensor gcb = convBias != null && wants(convBias) ? empty(backend, dtype, new int[]{o}) : null;
                Tensor gw = weight != null && wants(weight) ? empty(backend, dtype, new int[]{o}) : null;
                Tensor gb = bias != null && wants(bias) ? empty(backend, dtype, new int[]{o}) : null;
                backend.convBatchNormReluPool2x2Backward(gc.view(), pooled.view(), idx.view(), xc.view(), cwc.view(),
                        cbc == null ? null : cbc.view(), padding, padding, wc == null ? null : flat1(wc), flat1(mean),
                        flat1(rstd), gx == null ? null : gx.view(), gcw == null ? null : gcw.view(),
                        gcb == null ? null : flat1(gcb), gw == null ? null : flat1(gw), gb == null ? null : flat1(gb));
                return new Tensor[]{gx, gcw, gcb, gw, gb};
            }
            // createGraph: the convolution recomputed as a differentiable op, the block's rules on it
            Tensor y = Convolution.convolve(x, convWeight, convBias, ys, 1, padding);
            Tensor[] norm = poolGraphBackward(g, pooled, idx, y, weight, bias, eps);
            Tensor gy = norm[0];
            boolean convolution = gy != null;
            return new Tensor[]{
                    convolution && wants(x) ? Convolution.convolveBackwardInput(gy, convWeight, xShape, 1, padding) : null,
                    convolution && wants(convWeight) ? Convolution.convolveBackwardWeight(x, gy, wShape, 1, padding) : null,
                    convolution && convBias != null && wants(convBias) ? ChannelOps.channelSums(gy, null) : null,
                    norm[1], norm[2]};
        });
    }

    /**
     * batchNorm's backward with batch statistics as differentiable {@link ChannelOps}, for
     * createGraph: with xc = x - mean recomputed from x, r = rstd, Sg = sum g and Sgx = sum g xc per
     * channel over M = N S values, gradX = r w g - (r w r^2 Sgx / M) xc - r w Sg / M (the rule
     * rstd (gh - mean(gh) - xhat mean(gh xhat)) expanded), gradWeight = r Sgx, gradBias = Sg: six
     * passes over the activations, and its own backward again a few channel ops.
     */
    private static Tensor[] batchNormGraphBackward(Tensor g, Tensor x, Tensor weight, Tensor bias, double eps) {
        double invCount = (double) x.size(1) / Math.max(1, x.numel());
        Tensor mean = Pointwise.mul(ChannelOps.channelSums(x, null), x.constant(invCount));
        Tensor centered = ChannelOps.channelCombine(x, null, null, null, Pointwise.neg(mean));
        Tensor var = Pointwise.mul(ChannelOps.channelSums(centered, centered), x.constant(invCount));
        Tensor r = Pointwise.div(var.constant(1), Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        Tensor sumG = ChannelOps.channelSums(g, null);
        Tensor sumGxc = ChannelOps.channelSums(g, centered);
        Tensor gx = null;
        if (wants(x)) {
            Tensor rw = weight == null ? r : Pointwise.mul(r, weight);
            Tensor centeredCoefficient = Pointwise.neg(Pointwise.mul(Pointwise.mul(rw, Pointwise.mul(r, r)),
                    Pointwise.mul(sumGxc, x.constant(invCount))));
            Tensor shift = Pointwise.neg(Pointwise.mul(rw, Pointwise.mul(sumG, x.constant(invCount))));
            gx = ChannelOps.channelCombine(g, rw, centered, centeredCoefficient, shift);
        }
        Tensor gw = wants(weight) ? Pointwise.mul(r, sumGxc) : null;
        Tensor gb = wants(bias) ? sumG : null;
        return new Tensor[]{gx, gw, gb};
    }

    /**
     * The backward of a normalization over {@code axes} followed by weight and bias, built from
     * differentiable ops (so it can be differentiated again): with xhat = (x - mean) rstd recomputed
     * from x and gh = g w, gradX = rstd (gh - mean(gh) - xhat mean(gh xhat)); gradWeight and
     * gradBias sum g xhat and g over {@code sumAxes} (none: elementwise). {@code weightView} is the
     * weight broadcastable against x (null: no weight); {@code weight} and {@code bias} are the
     * inputs as recorded, for which a gradient is produced only if they require one.
     */
    private static Tensor[] normalizationBackward(Tensor g, Tensor x, Tensor weight, Tensor weightView, Tensor bias,
                                                  int[] axes, int[] sumAxes, double eps) {
        Tensor centered = Pointwise.sub(x, Reductions.mean(x, true, axes));
        Tensor var = Reductions.mean(Pointwise.mul(centered, centered), true, axes);
        Tensor r = Pointwise.div(var.constant(1), Pointwise.sqrt(Pointwise.add(var, var.constant(eps))));
        Tensor xhat = Pointwise.mul(centered, r);
        Tensor gh = weightView == null ? g : Pointwise.mul(g, weightView);
        Tensor gx = Pointwise.mul(r, Pointwise.sub(Pointwise.sub(gh, Reductions.mean(gh, true, axes)),
                Pointwise.mul(xhat, Reductions.mean(Pointwise.mul(gh, xhat), true, axes))));
        Tensor gw = wants(weight) ? (sumAxes.length == 0 ? Pointwise.mul(g, xhat)
                : Reductions.sum(Pointwise.mul(g, xhat), false, sumAxes)) : null;
        Tensor gb = wants(bias) ? (sumAxes.length == 0 ? g : Reductions.sum(g, false, sumAxes)) : null;
        return new Tensor[]{wants(x) ? gx : null, gw, gb};
    }

    /**
     * running = (1 - momentum) running + momentum batch, in place and without gradients, for the
     * per-channel batch mean and biased variance [C] over {@code count} values (the running
     * variance gets the unbiased one, as PyTorch).
     */
    private static void updateRunningStatistics(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor biasedVar,
                                                long count, double momentum) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Tensor unbiased = Pointwise.mul(biasedVar, biasedVar.constant((double) count / (count - 1)));
            runningMean.assign(Pointwise.add(Pointwise.mul(runningMean, mean.constant(1 - momentum)),
                    Pointwise.mul(mean, mean.constant(momentum))));
            runningVar.assign(Pointwise.add(Pointwise.mul(runningVar, biasedVar.constant(1 - momentum)),
                    Pointwise.mul(unbiased, biasedVar.constant(momentum))));
        }
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

    // ---------------------------------------------------------------- attention

    /**
     * softmax(q k^T / sqrt(d) + mask) v for q [..., T, d], k [..., S, d], v [..., S, dv] (equal
     * batch axes). With {@code causal}, query i sits at absolute position S - T + i (the last T
     * of S positions, as with a key/value cache) and sees keys j &lt;= S - T + i.
     *
     * <p>Fused: one node; the forward keeps only each row's logsumexp, the first-order backward
     * recomputes the probabilities. The result of a rank-4 call is laid out as [B, T, H, dv]
     * underneath, so merging heads with permute(0, 2, 1, 3).reshape(B, T, H*dv) is a view. With
     * createGraph the backward is built from differentiable ops, so second derivatives work.
     * Under {@link Fusion#disabled()} it is the composite: matmul, scale, masked fill, softmax, matmul.
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, boolean causal) {
        backendOf("attention", q, k, v);
        sameFloat("attention", q, k);
        sameFloat("attention", q, v);
        int r = q.dim();
        if (r < 2 || k.dim() != r || v.dim() != r || q.size(-1) != k.size(-1) || k.size(-2) != v.size(-2)
                || !Arrays.equals(Arrays.copyOf(q.shape(), r - 2), Arrays.copyOf(k.shape(), r - 2))
                || !Arrays.equals(Arrays.copyOf(q.shape(), r - 2), Arrays.copyOf(v.shape(), r - 2))
                || (causal && k.size(-2) < q.size(-2))) {
            throw new IllegalArgumentException("attention: expected q [..., T, d], k [..., S, d], v [..., S, dv]"
                    + (causal ? " with S >= T" : "") + ", got " + Shape.str(q.shape()) + ", " + Shape.str(k.shape())
                    + ", " + Shape.str(v.shape()));
        }
        double scale = 1.0 / Math.sqrt(q.size(-1));
        if (!Fusion.enabled()) return attentionComposite(q, k, v, scale, causal);
        int t = q.size(-2), dv = v.size(-1);
        int[] outShape = q.shape();
        outShape[r - 1] = dv;
        Tensor out;
        if (r == 4) { // [B, H, T, dv] over storage laid out [B, T, H, dv]
            int b = outShape[0], h = outShape[1];
            Tensor base = empty(q.backend(), q.dtype(), new int[]{b, t, h, dv});
            out = new Tensor(base.storage(), 0, outShape, new int[]{t * h * dv, dv, h * dv, 1});
        } else {
            out = empty(q.backend(), q.dtype(), outShape);
        }
        int[] lseShape = Arrays.copyOf(q.shape(), r - 1);
        Tensor lse = empty(q.backend(), q.dtype(), lseShape);
        Tensor qd = q.detach(), kd = k.detach(), vd = v.detach();
        q.backend().attention(qd.view(), kd.view(), vd.view(), scale, causal, out.view(), lse.view());
        return record(out, "attention", new Tensor[]{q, k, v}, g -> {
            if (!GradMode.isEnabled()) {
                Tensor gq = empty(q.backend(), q.dtype(), q.shape());
                Tensor gk = empty(q.backend(), q.dtype(), k.shape());
                Tensor gv = empty(q.backend(), q.dtype(), v.shape());
                q.backend().attentionBackward(qd.view(), kd.view(), vd.view(), scale, causal, lse.view(), g.view(),
                        gq.view(), gk.view(), gv.view());
                return new Tensor[]{wants(q) ? gq : null, wants(k) ? gk : null, wants(v) ? gv : null};
            }
            Tensor p = softmax(maskedScores(q, k, scale, causal), -1);
            Tensor gv = LinearAlgebra.matmul(p.mT(), g);
            Tensor dp = LinearAlgebra.matmul(g, v.mT());
            Tensor ds = Pointwise.mul(Pointwise.mul(p, Pointwise.sub(dp, Reductions.sum(Pointwise.mul(dp, p), true, -1))),
                    p.constant(scale));
            return new Tensor[]{wants(q) ? LinearAlgebra.matmul(ds, k) : null,
                    wants(k) ? LinearAlgebra.matmul(ds.mT(), q) : null, wants(v) ? gv : null};
        });
    }

    private static Tensor maskedScores(Tensor q, Tensor k, double scale, boolean causal) {
        Tensor scores = Pointwise.mul(LinearAlgebra.matmul(q, k.mT()), q.constant(scale));
        if (!causal) return scores;
        int t = q.size(-2), s = k.size(-2);
        double[] future = new double[t * s];
        for (int i = 0; i < t; i++) for (int j = s - t + i + 1; j < s; j++) future[i * s + j] = 1;
        Tensor mask = new Tensor(q.backend().upload(future, q.dtype()), new int[]{t, s});
        return Pointwise.maskedFill(scores, mask, Double.NEGATIVE_INFINITY);
    }

    private static Tensor attentionComposite(Tensor q, Tensor k, Tensor v, double scale, boolean causal) {
        return LinearAlgebra.matmul(softmax(maskedScores(q, k, scale, causal), -1), v);
    }

    /** Mask of allowed attention positions: 1 on and below the diagonal of a [T, T] matrix. */
    public static Tensor causalMask(int t, DType dtype, io.github.grad4j.backend.Backend backend) {
        double[] d = new double[t * t];
        for (int i = 0; i < t; i++) for (int j = 0; j <= i; j++) d[i * t + j] = 1;
        return new Tensor(backend.upload(d, dtype), new int[]{t, t});
    }
}
