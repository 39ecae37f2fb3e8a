package io.github.grad4j.optim;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Tensor;

/** Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales all gradients together so that their joint L2 norm is at most {@code maxNorm}, and
     * returns the norm before clipping. As PyTorch: coef = maxNorm / (total + 1e-6), and the
     * gradients are multiplied by coef when coef &lt; 1. Parameters without a gradient are ignored.
     *
     * <p>Each gradient is replaced by a new tensor rather than scaled in place, because gradients
     * computed by autograd may share storage with one another.
     */
    public static double clipGradNorm(Iterable<Tensor> parameters, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("clipGradNorm: maxNorm must be > 0, got " + maxNorm);
        double total = totalNorm(parameters);
        double coef = maxNorm / (total + 1e-6);
        if (coef < 1) {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                for (Tensor p : parameters) {
                    Tensor g = p.grad();
                    if (g != null) p.setGrad(g.detach().mul(coef));
                }
            }
        }
        return total;
    }

    /** The joint L2 norm of all gradients (sum of squares accumulated in double). */
    public static double totalNorm(Iterable<Tensor> parameters) {
        double sumOfSquares = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor p : parameters) {
                Tensor g = p.grad();
                if (g != null) sumOfSquares += g.detach().square().sum().item();
            }
        }
        return Math.sqrt(sumOfSquares);
    }
}
