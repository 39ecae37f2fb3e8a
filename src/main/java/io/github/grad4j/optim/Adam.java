package io.github.grad4j.optim;

import io.github.grad4j.tensor.Tensor;

import java.util.Map;

/**
 * Adam with PyTorch's semantics (weight decay as an L2 term added to the gradient):
 * <pre>
 *   t = t + 1                                   (per parameter)
 *   g = grad + weightDecay * p
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * State slots: "step" (INT32), "exp_avg" (m), "exp_avg_sq" (v). AMSGrad is not supported.
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;

    public Adam(Map<String, Tensor> namedParameters, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this("Adam", namedParameters, lr, beta1, beta2, eps, weightDecay);
    }

    /** betas (0.9, 0.999), eps 1e-8, no weight decay (PyTorch's defaults). */
    public Adam(Map<String, Tensor> namedParameters, double lr) {
        this(namedParameters, lr, 0.9, 0.999, 1e-8, 0);
    }

    Adam(String kind, Map<String, Tensor> namedParameters, double lr, double beta1, double beta2, double eps,
         double weightDecay) {
        super(kind, namedParameters, lr);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException(kind + ": beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException(kind + ": beta2 must be in [0, 1), got " + beta2);
        if (!(eps >= 0)) throw new IllegalArgumentException(kind + ": eps must be >= 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException(kind + ": weight decay must be >= 0, got " + weightDecay);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    // ordered (Map.of is not), so state dicts and checkpoint files list the slots in one fixed order
    private static final Map<String, Slot> SLOTS = new java.util.LinkedHashMap<>();

    static {
        SLOTS.put("step", Slot.COUNT);
        SLOTS.put("exp_avg", Slot.LIKE_PARAMETER);
        SLOTS.put("exp_avg_sq", Slot.LIKE_PARAMETER);
    }

    @Override
    protected Map<String, Slot> slots() {
        return java.util.Collections.unmodifiableMap(SLOTS);
    }

    @Override
    protected double weightDecay() {
        return weightDecay;
    }

    /** The gradient Adam's moments see: with L2 decay for Adam, unchanged for AdamW. */
    protected Tensor effectiveGradient(Tensor p, Tensor grad, double wd) {
        return wd != 0 ? grad.add(p.mul(wd)) : grad;
    }

    /** The parameter Adam's step is applied to: itself for Adam, decayed for AdamW. */
    protected Tensor decayed(Tensor p, double lr, double wd) {
        return p;
    }

    /** True for AdamW: the decay shrinks the parameter instead of joining the gradient. */
    protected boolean decoupledWeightDecay() {
        return false;
    }

    /**
     * The same step as {@link #update}, in place through the backend's fused {@code adamStep}
     * (one pass over parameter, gradient and both moments) when parameter and gradient are dense.
     */
    @Override
    protected boolean updateInPlace(Tensor p, Tensor grad, Map<String, Tensor> state, double lr, double wd) {
        if (!io.github.grad4j.ops.Fusion.enabled() || !p.isContiguous() || !grad.isContiguous()) return false;
        Tensor m = state.get("exp_avg");
        Tensor v = state.get("exp_avg_sq");
        if (m == null) {
            m = Tensor.zeros(p.backend(), p.dtype(), p.shape());
            v = Tensor.zeros(p.backend(), p.dtype(), p.shape());
        } else if (!m.isContiguous() || !v.isContiguous()) {
            return false;
        }
        long t = state.containsKey("step") ? (long) state.get("step").item() + 1 : 1;
        p.backend().adamStep(p.view(), grad.view(), m.view(), v.view(), t, lr, beta1, beta2, eps, wd, decoupledWeightDecay());
        state.put("step", countTensor(t));
        state.put("exp_avg", m);
        state.put("exp_avg_sq", v);
        return true;
    }

    @Override
    protected Tensor update(Tensor p, Tensor grad, Map<String, Tensor> state, double lr, double wd) {
        Tensor g = effectiveGradient(p, grad, wd);
        Tensor m = state.get("exp_avg");
        Tensor v = state.get("exp_avg_sq");
        long t = state.containsKey("step") ? (long) state.get("step").item() + 1 : 1;
        m = m == null ? g.mul(1 - beta1) : m.mul(beta1).add(g.mul(1 - beta1));
        v = v == null ? g.square().mul(1 - beta2) : v.mul(beta2).add(g.square().mul(1 - beta2));
        state.put("step", countTensor(t));
        state.put("exp_avg", m);
        state.put("exp_avg_sq", v);
        double biasCorrection1 = 1 - Math.pow(beta1, t);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        Tensor denom = v.sqrt().div(biasCorrection2Sqrt).add(eps);
        return decayed(p, lr, wd).sub(m.div(denom).mul(lr / biasCorrection1));
    }
}
