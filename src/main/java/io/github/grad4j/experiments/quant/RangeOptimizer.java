package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Tensor;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two plain update rules the analysis compares, applied in place to range parameters. Kept
 * here (not in {@code io.github.grad4j.optim}, which arrives later) so the analysis is
 * self-contained; they follow the textbook definitions exactly:
 * <ul>
 * <li>SGD: p -= lr * g</li>
 * <li>Adam (Kingma and Ba, beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected):
 *     m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)</li>
 * </ul>
 * Adam's step is about lr in size whatever the gradient's scale, which is why it hides much of the
 * parameterizations' differences in gradient magnitude and SGD exposes them.
 */
abstract class RangeOptimizer {
    /** Which rule. */
    enum Kind { SGD, ADAM }

    final double lr;

    RangeOptimizer(double lr) {
        this.lr = lr;
    }

    static RangeOptimizer of(Kind kind, double lr) {
        return kind == Kind.SGD ? new Sgd(lr) : new Adam(lr);
    }

    /** Updates each parameter in place from its gradient (same order). */
    void step(List<Tensor> params, List<Tensor> grads) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                double[] values = p.toDoubleArray();
                update(p, values, grads.get(i).toDoubleArray());
                p.assign(new Tensor(p.backend().upload(values, p.dtype()), p.shape()));
            }
        }
    }

    abstract void update(Tensor key, double[] values, double[] grad);

    private static final class Sgd extends RangeOptimizer {
        Sgd(double lr) {
            super(lr);
        }

        @Override
        void update(Tensor key, double[] values, double[] grad) {
            for (int j = 0; j < values.length; j++) values[j] -= lr * grad[j];
        }
    }

    private static final class Adam extends RangeOptimizer {
        private static final double BETA1 = 0.9, BETA2 = 0.999, EPS = 1e-8;
        private final Map<Tensor, double[][]> state = new IdentityHashMap<>();

        Adam(double lr) {
            super(lr);
        }

        @Override
        void update(Tensor key, double[] values, double[] grad) {
            // state: m, v, and the step count t in a one-element array
            double[][] s = state.computeIfAbsent(key, k -> new double[][]{new double[values.length], new double[values.length], {0}});
            double t = ++s[2][0];
            double c1 = 1 - Math.pow(BETA1, t), c2 = 1 - Math.pow(BETA2, t);
            for (int j = 0; j < values.length; j++) {
                s[0][j] = BETA1 * s[0][j] + (1 - BETA1) * grad[j];
                s[1][j] = BETA2 * s[1][j] + (1 - BETA2) * grad[j] * grad[j];
                values[j] -= lr * (s[0][j] / c1) / (Math.sqrt(s[1][j] / c2) + EPS);
            }
        }
    }
}
