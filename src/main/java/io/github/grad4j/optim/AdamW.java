package io.github.grad4j.optim;

import io.github.grad4j.tensor.Tensor;

import java.util.Map;

/**
 * Adam with decoupled weight decay, as PyTorch's AdamW: the parameter first shrinks,
 * p = p (1 - lr weightDecay), then takes Adam's step computed from the raw gradient.
 * State slots as {@link Adam}.
 */
public class AdamW extends Adam {

    public AdamW(Map<String, Tensor> namedParameters, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super("AdamW", namedParameters, lr, beta1, beta2, eps, weightDecay);
    }

    /** betas (0.9, 0.999), eps 1e-8, weight decay 0.01 (PyTorch's defaults). */
    public AdamW(Map<String, Tensor> namedParameters, double lr) {
        this(namedParameters, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    @Override
    protected boolean decoupledWeightDecay() {
        return true;
    }

    @Override
    protected Tensor effectiveGradient(Tensor p, Tensor grad, double wd) {
        return grad;
    }

    @Override
    protected Tensor decayed(Tensor p, double lr, double wd) {
        return wd != 0 ? p.mul(1 - lr * wd) : p;
    }
}
