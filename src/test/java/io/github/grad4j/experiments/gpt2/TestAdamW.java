package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A minimal AdamW with PyTorch's semantics (torch.optim.AdamW), only for the golden test until
 * io.github.grad4j.optim arrives: decoupled decay p -= lr * wd * p, then
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). State is kept in double on the host.
 */
final class TestAdamW {
    private final double lr, beta1, beta2, eps;
    private final Map<Tensor, Double> weightDecay = new LinkedHashMap<>();
    private final Map<Tensor, double[]> m = new LinkedHashMap<>();
    private final Map<Tensor, double[]> v = new LinkedHashMap<>();
    private int step;

    TestAdamW(double lr, double beta1, double beta2, double eps) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    void addGroup(List<Tensor> params, double decay) {
        for (Tensor p : params) {
            weightDecay.put(p, decay);
            m.put(p, new double[p.numel()]);
            v.put(p, new double[p.numel()]);
        }
    }

    void step() {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Map.Entry<Tensor, Double> e : weightDecay.entrySet()) {
                Tensor p = e.getKey();
                if (p.grad() == null) continue;
                double[] w = p.toDoubleArray();
                double[] g = p.grad().toDoubleArray();
                double[] mm = m.get(p), vv = v.get(p);
                for (int i = 0; i < w.length; i++) {
                    w[i] *= 1 - lr * e.getValue();
                    mm[i] = beta1 * mm[i] + (1 - beta1) * g[i];
                    vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
                    w[i] -= lr / bc1 * mm[i] / (Math.sqrt(vv[i]) / Math.sqrt(bc2) + eps);
                }
                p.assign(Tensor.of(w, p.dtype(), p.shape()));
            }
        }
    }
}
