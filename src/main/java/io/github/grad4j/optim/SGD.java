package io.github.grad4j.optim;

import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Tensor;

import java.util.Map;

/**
 * Stochastic gradient descent with PyTorch's semantics:
 * <pre>
 *   g = grad + weightDecay * p
 *   if momentum != 0:
 *       buf = g                                      (first update of this parameter)
 *       buf = momentum * buf + (1 - dampening) * g   (later updates)
 *       g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 * </pre>
 * State slot: "momentum_buffer" (only with momentum).
 */
public class SGD extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    public SGD(Map<String, Tensor> namedParameters, double lr, double momentum, double dampening, double weightDecay,
               boolean nesterov) {
        super("SGD", namedParameters, lr);
        if (!(momentum >= 0)) throw new IllegalArgumentException("SGD: momentum must be >= 0, got " + momentum);
        if (!(dampening >= 0 && dampening <= 1)) {
            throw new IllegalArgumentException("SGD: dampening must be in [0, 1], got " + dampening);
        }
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("SGD: weight decay must be >= 0, got " + weightDecay);
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("SGD: Nesterov momentum requires momentum > 0 and dampening 0, got momentum "
                    + momentum + ", dampening " + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    /** Plain SGD: no momentum, no weight decay. */
    public SGD(Map<String, Tensor> namedParameters, double lr) {
        this(namedParameters, lr, 0, 0, 0, false);
    }

    @Override
    protected Map<String, Slot> slots() {
        return momentum != 0 ? Map.of("momentum_buffer", Slot.LIKE_PARAMETER) : Map.of();
    }

    @Override
    protected double weightDecay() {
        return weightDecay;
    }

    @Override
    protected Tensor update(Tensor p, Tensor grad, Map<String, Tensor> state, double lr, double wd) {
        Tensor g = wd != 0 ? grad.add(p.mul(wd)) : grad;
        if (momentum != 0) {
            Tensor buf = state.get("momentum_buffer");
            // the first buffer is a copy: g may share storage with the gradient, which the caller still holds
            buf = buf == null ? Views.clone(g) : buf.mul(momentum).add(g.mul(1 - dampening));
            state.put("momentum_buffer", buf);
            g = nesterov ? g.add(buf.mul(momentum)) : buf;
        }
        return p.sub(g.mul(lr));
    }
}
