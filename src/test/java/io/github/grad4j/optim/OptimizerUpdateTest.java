package io.github.grad4j.optim;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Optimizer updates against PyTorch's update equations, simulated here in double precision on the
 * loss L(p) = sum c_i (p_i - t_i)^2, whose gradient 2 c (p - t) the simulation computes by hand
 * while the optimizer gets it from autograd.
 */
class OptimizerUpdateTest {
    private static final double[] C = {0.5, 1.0, 2.0, 3.0, 0.1, 1.5};
    private static final double[] T = {1.0, -2.0, 0.5, 0.0, 3.0, -0.7};
    private static final double[] P0 = {0.3, 0.8, -1.1, 0.05, 2.0, -0.2};

    private static Tensor parameter() {
        return Tensor.of(P0.clone(), DType.FLOAT64, 2, 3).requiresGrad(true);
    }

    /** Computes the loss with autograd, leaving the gradient in p.grad(). */
    private static void backward(Tensor p) {
        Tensor c = Tensor.of(C, DType.FLOAT64, 2, 3), t = Tensor.of(T, DType.FLOAT64, 2, 3);
        p.sub(t).square().mul(c).sum().backward();
    }

    private static double[] grad(double[] p) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) g[i] = 2 * C[i] * (p[i] - T[i]);
        return g;
    }

    private static double[] run(Optimizer opt, Tensor p, int steps) {
        for (int s = 0; s < steps; s++) {
            opt.zeroGrad();
            backward(p);
            opt.step();
        }
        return p.toDoubleArray();
    }

    /** PyTorch SGD, one parameter, several steps. */
    private static double[] sgdReference(int steps, double lr, double momentum, double dampening, double wd, boolean nesterov) {
        double[] p = P0.clone();
        double[] buf = null;
        for (int s = 0; s < steps; s++) {
            double[] g = grad(p);
            for (int i = 0; i < p.length; i++) g[i] += wd * p[i];
            if (momentum != 0) {
                if (buf == null) buf = g.clone();
                else for (int i = 0; i < p.length; i++) buf[i] = momentum * buf[i] + (1 - dampening) * g[i];
                for (int i = 0; i < p.length; i++) g[i] = nesterov ? g[i] + momentum * buf[i] : buf[i];
            }
            for (int i = 0; i < p.length; i++) p[i] -= lr * g[i];
        }
        return p;
    }

    /** PyTorch Adam (decoupled = false) or AdamW (decoupled = true). */
    private static double[] adamReference(int steps, double lr, double b1, double b2, double eps, double wd, boolean decoupled) {
        double[] p = P0.clone();
        double[] m = new double[p.length], v = new double[p.length];
        for (int t = 1; t <= steps; t++) {
            double[] g = grad(p);
            for (int i = 0; i < p.length; i++) {
                if (decoupled) p[i] *= 1 - lr * wd;
                else g[i] += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        return p;
    }

    private static Map<String, Tensor> named(Tensor p) {
        return Map.of("p", p);
    }

    @Test
    void plainSgdOneStep() {
        Tensor p = parameter();
        run(new SGD(named(p), 0.1), p, 1);
        double[] g = grad(P0);
        for (int i = 0; i < P0.length; i++) assertEquals(P0[i] - 0.1 * g[i], p.toDoubleArray()[i], 1e-15);
    }

    @Test
    void sgdWithMomentumDampeningAndWeightDecay() {
        Tensor p = parameter();
        double[] got = run(new SGD(named(p), 0.05, 0.9, 0.3, 0.01, false), p, 6);
        assertArrayEquals(sgdReference(6, 0.05, 0.9, 0.3, 0.01, false), got, 1e-13);
    }

    @Test
    void sgdWithNesterovMomentum() {
        Tensor p = parameter();
        double[] got = run(new SGD(named(p), 0.05, 0.8, 0, 0.02, true), p, 6);
        double[] expected = sgdReference(6, 0.05, 0.8, 0, 0.02, true);
        assertArrayEquals(expected, got, 1e-13);
        // and it is not plain momentum
        assertFalse(java.util.Arrays.equals(sgdReference(6, 0.05, 0.8, 0, 0.02, false), expected));
    }

    @Test
    void adamSeveralStepsWithL2WeightDecay() {
        Tensor p = parameter();
        double[] got = run(new Adam(named(p), 0.01, 0.9, 0.99, 1e-8, 0.1), p, 7);
        assertArrayEquals(adamReference(7, 0.01, 0.9, 0.99, 1e-8, 0.1, false), got, 1e-13);
    }

    @Test
    void adamFirstStepIsBiasCorrectedToTheLearningRate() {
        // without bias correction the first step would be lr * (1 - beta1) / sqrt(1 - beta2) = 3.16 lr per element
        Tensor p = parameter();
        run(new Adam(named(p), 0.01), p, 1);
        double[] g = grad(P0);
        for (int i = 0; i < P0.length; i++) {
            assertEquals(P0[i] - 0.01 * g[i] / (Math.abs(g[i]) + 1e-8), p.toDoubleArray()[i], 1e-15);
        }
    }

    @Test
    void adamWSeveralSteps() {
        Tensor p = parameter();
        double[] got = run(new AdamW(named(p), 0.01, 0.9, 0.95, 1e-8, 0.1), p, 7);
        assertArrayEquals(adamReference(7, 0.01, 0.9, 0.95, 1e-8, 0.1, true), got, 1e-13);
    }

    @Test
    void adamWDecayIsDecoupledWhereAdamDecayIsAGradientTerm() {
        // with a zero loss gradient, AdamW only shrinks p by (1 - lr wd); Adam's L2 term goes through the
        // normalization and moves each element by about lr towards 0, whatever its size
        double lr = 0.01, wd = 0.1;
        Tensor pw = parameter(), pa = parameter();
        AdamW adamW = new AdamW(named(pw), lr, 0.9, 0.999, 1e-8, wd);
        Adam adam = new Adam(named(pa), lr, 0.9, 0.999, 1e-8, wd);
        pw.setGrad(Tensor.zeros(DType.FLOAT64, 2, 3));
        pa.setGrad(Tensor.zeros(DType.FLOAT64, 2, 3));
        adamW.step();
        adam.step();
        for (int i = 0; i < P0.length; i++) {
            assertEquals(P0[i] * (1 - lr * wd), pw.toDoubleArray()[i], 1e-15);
            double l2 = wd * P0[i];
            assertEquals(P0[i] - lr * l2 / (Math.abs(l2) + 1e-8), pa.toDoubleArray()[i], 1e-15);
        }
    }

    @Test
    void weightDecayFilterExcludesVectors() {
        Tensor w = Tensor.of(new double[]{1, 2, 3, 4}, DType.FLOAT64, 2, 2).requiresGrad(true);
        Tensor b = Tensor.of(new double[]{1, 2}, DType.FLOAT64, 2).requiresGrad(true);
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("w", w);
        params.put("b", b);
        Optimizer opt = new AdamW(params, 0.1, 0.9, 0.999, 1e-8, 0.5).setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
        w.setGrad(Tensor.zeros(DType.FLOAT64, 2, 2));
        b.setGrad(Tensor.zeros(DType.FLOAT64, 2));
        opt.step();
        assertArrayEquals(new double[]{0.95, 1.9, 2.85, 3.8}, w.toDoubleArray(), 1e-15);
        assertArrayEquals(new double[]{1, 2}, b.toDoubleArray(), 0.0);
    }

    @Test
    void stepKeepsParametersLeavesAndRecordsNoGraph() {
        Tensor p = parameter();
        Optimizer opt = new Adam(named(p), 0.01);
        backward(p);
        assertTrue(GradMode.isEnabled());
        opt.step();
        assertTrue(p.isLeaf());
        assertNull(p.gradFn());
        assertTrue(p.requiresGrad());
        assertEquals(1, opt.stepCount());
        opt.zeroGrad();
        assertNull(p.grad());
    }

    @Test
    void parametersWithoutGradientsAreSkippedAndKeepTheirState() {
        Tensor a = parameter(), b = parameter();
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("a", a);
        params.put("b", b);
        Adam opt = new Adam(params, 0.01);
        backward(a);
        opt.step();
        assertArrayEquals(P0, b.toDoubleArray(), 0.0);
        Map<String, Tensor> sd = opt.stateDict();
        assertEquals(1, (int) sd.get("a.step").item());
        assertFalse(sd.containsKey("b.step"));
        // b's first real step is bias-corrected as a first step, as PyTorch's per-parameter step count does
        opt.zeroGrad();
        backward(b);
        opt.step();
        double[] g = grad(P0);
        assertEquals(P0[0] - 0.01 * g[0] / (Math.abs(g[0]) + 1e-8), b.toDoubleArray()[0], 1e-15);
    }

    @Test
    void tiedParametersAreUpdatedOnce() {
        Tensor p = parameter();
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("wte.weight", p);
        params.put("lm_head.weight", p);
        SGD opt = new SGD(params, 0.1);
        assertEquals(List.of("wte.weight"), List.copyOf(opt.parameters().keySet()));
        run(opt, p, 1);
        assertArrayEquals(sgdReference(1, 0.1, 0, 0, 0, false), p.toDoubleArray(), 1e-15);
    }

    @Test
    void stateDictResumesBitForBit() {
        Tensor p1 = parameter();
        AdamW first = new AdamW(named(p1), 0.02, 0.9, 0.95, 1e-8, 0.1);
        run(first, p1, 3);
        Map<String, Tensor> saved = first.stateDict();
        assertEquals(List.of("step", "learning_rate", "p.step", "p.exp_avg", "p.exp_avg_sq"), List.copyOf(saved.keySet()));

        Tensor p2 = Tensor.of(p1.toDoubleArray(), DType.FLOAT64, 2, 3).requiresGrad(true);
        AdamW second = new AdamW(named(p2), 0.5, 0.9, 0.95, 1e-8, 0.1);
        second.loadStateDict(saved);
        assertEquals(0.02, second.learningRate());
        assertEquals(List.copyOf(saved.keySet()), List.copyOf(second.stateDict().keySet()), "slot order survives loading");
        assertEquals(3, second.stepCount());
        assertArrayEquals(run(first, p1, 4), run(second, p2, 4), 0.0);
    }

    @Test
    void mismatchedStateDictIsRejectedWholeAndNamesTheTensor() {
        Tensor p = parameter();
        SGD opt = new SGD(named(p), 0.1, 0.9, 0, 0, false);
        run(opt, p, 2);
        Map<String, Tensor> before = opt.stateDict();
        Map<String, Tensor> bad = new LinkedHashMap<>(before);
        bad.put("p.momentum_buffer", Tensor.zeros(DType.FLOAT64, 3, 2));
        bad.put("learning_rate", Tensor.scalar(7, DType.FLOAT64));
        var e = assertThrows(IllegalArgumentException.class, () -> opt.loadStateDict(bad));
        assertTrue(e.getMessage().contains("'p.momentum_buffer'") && e.getMessage().contains("[3, 2]"), e.getMessage());
        assertEquals(0.1, opt.learningRate());
        assertArrayEquals(before.get("p.momentum_buffer").toDoubleArray(), opt.stateDict().get("p.momentum_buffer").toDoubleArray());
        Map<String, Tensor> extra = new LinkedHashMap<>(before);
        extra.put("q.momentum_buffer", Tensor.zeros(DType.FLOAT64, 2, 3));
        e = assertThrows(IllegalArgumentException.class, () -> opt.loadStateDict(extra));
        assertTrue(e.getMessage().contains("unexpected optimizer state 'q.momentum_buffer'"), e.getMessage());
    }

    @Test
    void badHyperparametersAreRejected() {
        Map<String, Tensor> params = named(parameter());
        assertThrows(IllegalArgumentException.class, () -> new SGD(params, -0.1));
        var e = assertThrows(IllegalArgumentException.class, () -> new SGD(params, 0.1, 0, 0, 0, true));
        assertTrue(e.getMessage().contains("Nesterov"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Adam(params, 0.1, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(params, 0.1, 0.9, 0.999, 1e-8, -1));
        assertThrows(IllegalArgumentException.class, () -> new SGD(Map.of("x", Tensor.zeros(DType.FLOAT32, 2)), 0.1));
        assertThrows(IllegalArgumentException.class, () -> new SGD(Map.of(), 0.1));
    }

    @Test
    void float32ParametersFollowTheDoubleReferenceClosely() {
        Rng rng = new Rng(1);
        Tensor p = Tensor.of(P0.clone(), DType.FLOAT32, 2, 3).requiresGrad(true);
        Optimizer opt = new Adam(named(p), 0.01, 0.9, 0.99, 1e-8, 0.1);
        for (int s = 0; s < 5; s++) {
            opt.zeroGrad();
            Tensor c = Tensor.of(C, DType.FLOAT32, 2, 3), t = Tensor.of(T, DType.FLOAT32, 2, 3);
            p.sub(t).square().mul(c).sum().backward();
            opt.step();
        }
        assertEquals(DType.FLOAT32, p.dtype());
        assertArrayEquals(adamReference(5, 0.01, 0.9, 0.99, 1e-8, 0.1, false), p.toDoubleArray(), 1e-5);
    }
}
