package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.ShotMode;
import io.github.grad4j.nn.Flatten;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The meta-gradient is checked against central finite differences of the post-adaptation query loss
 * as a function of the meta-parameters, in FLOAT64. The same finite differences must disagree with
 * the first-order approximation, which shows that the check can tell the two apart.
 */
class MetaGradientTest {
    private static final double EPS = 1e-6;

    /** tanh as a layer: smooth, so second-order terms are nonzero everywhere (unlike ReLU's). */
    private static final class Tanh extends Layer {
        @Override
        public Tensor forward(Tensor x) {
            return x.tanh();
        }
    }

    /** Flatten → Linear(4, 5) → tanh → Linear(5, 3) on 2x2 one-channel "images". */
    private static BaseNetwork tinyMlp(Rng rng) {
        Sequential net = new Sequential(new Flatten(), new Linear(4, 5, true, rng, DType.FLOAT64), new Tanh(),
                new Linear(5, 3, true, rng, DType.FLOAT64));
        return new BaseNetwork(net, List.of(List.of("1.weight", "1.bias"), List.of("3.weight", "3.bias")), List.of(),
                Set.of("3.weight", "3.bias"), 1, 2);
    }

    static Task randomTask(Rng rng, int ways, int[] shots, int queriesPerClass, int channels, int size) {
        int s = 0;
        for (int k : shots) s += k;
        int[] sy = new int[s];
        int i = 0;
        for (int c = 0; c < ways; c++) for (int k = 0; k < shots[c]; k++) sy[i++] = c;
        int[] qy = new int[ways * queriesPerClass];
        for (int c = 0; c < ways; c++) for (int k = 0; k < queriesPerClass; k++) qy[c * queriesPerClass + k] = c;
        Tensor sx = Tensor.randn(rng, 1.0, DType.FLOAT64, s, channels, size, size);
        Tensor qx = Tensor.randn(rng, 1.0, DType.FLOAT64, qy.length, channels, size, size);
        return new Task(sx, Tensor.ofInts(sy, s), qx, Tensor.ofInts(qy, qy.length), ways, shots, ShotMode.CLASS_IMBALANCED);
    }

    /** The objective's value with the balancing sample's noise fixed by the seed. */
    private static double objective(MetaLearner learner, Task task, Long noiseSeed) {
        Rng noise = noiseSeed == null ? null : new Rng(noiseSeed);
        return learner.metaObjective(task, noise).objective().item();
    }

    /** The analytic meta-gradient, one array per meta-parameter in {@link MetaLearner#metaParameters()} order. */
    private static List<double[]> metaGradient(MetaLearner learner, Task task, Long noiseSeed) {
        Map<String, Tensor> params = learner.metaParameters();
        params.values().forEach(p -> p.setGrad(null));
        Rng noise = noiseSeed == null ? null : new Rng(noiseSeed);
        learner.metaObjective(task, noise).objective().backward();
        List<double[]> grads = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor g = e.getValue().grad();
            grads.add(g == null ? new double[e.getValue().numel()] : g.toDoubleArray());
        }
        params.values().forEach(p -> p.setGrad(null));
        return grads;
    }

    /** Central differences for every element of every meta-parameter. */
    private static List<double[]> finiteDifferences(MetaLearner learner, Task task, Long noiseSeed) {
        List<double[]> out = new ArrayList<>();
        for (Tensor p : learner.metaParameters().values()) {
            double[] values = p.toDoubleArray();
            double[] g = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                setFlat(p, values, i, values[i] + EPS);
                double plus = objective(learner, task, noiseSeed);
                setFlat(p, values, i, values[i] - EPS);
                double minus = objective(learner, task, noiseSeed);
                setFlat(p, values, i, values[i]);
                g[i] = (plus - minus) / (2 * EPS);
            }
            out.add(g);
        }
        return out;
    }

    private static void setFlat(Tensor p, double[] base, int index, double value) {
        double[] v = base.clone();
        v[index] = value;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            p.assign(Tensor.of(v, p.dtype(), p.shape()));
        }
    }

    /** Moves every meta-parameter by t * direction (in place). */
    private static void shift(MetaLearner learner, List<double[]> origin, List<double[]> direction, double t) {
        int k = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor p : learner.metaParameters().values()) {
                double[] o = origin.get(k), d = direction.get(k);
                double[] v = new double[o.length];
                for (int i = 0; i < v.length; i++) v[i] = o[i] + t * d[i];
                p.assign(Tensor.of(v, p.dtype(), p.shape()));
                k++;
            }
        }
    }

    /** d/dt objective(params + t * direction) at t = 0, by central differences. */
    private static double directionalDifference(MetaLearner learner, Task task, Long noiseSeed, List<double[]> direction,
                                                double eps) {
        List<double[]> origin = new ArrayList<>();
        for (Tensor p : learner.metaParameters().values()) origin.add(p.toDoubleArray());
        shift(learner, origin, direction, eps);
        double plus = objective(learner, task, noiseSeed);
        shift(learner, origin, direction, -eps);
        double minus = objective(learner, task, noiseSeed);
        shift(learner, origin, direction, 0);
        return (plus - minus) / (2 * eps);
    }

    private static double dot(List<double[]> a, List<double[]> b) {
        double s = 0;
        for (int k = 0; k < a.size(); k++) for (int i = 0; i < a.get(k).length; i++) s += a.get(k)[i] * b.get(k)[i];
        return s;
    }

    private static double maxAbsDifference(List<double[]> a, List<double[]> b) {
        double m = 0;
        for (int k = 0; k < a.size(); k++) for (int i = 0; i < a.get(k).length; i++) m = Math.max(m, Math.abs(a.get(k)[i] - b.get(k)[i]));
        return m;
    }

    private static double maxAbs(List<double[]> a) {
        double m = 0;
        for (double[] x : a) for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static List<double[]> randomDirection(MetaLearner learner, Rng rng) {
        List<double[]> d = new ArrayList<>();
        for (Tensor p : learner.metaParameters().values()) {
            double[] v = new double[p.numel()];
            for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian();
            d.add(v);
        }
        return d;
    }

    @Test
    void secondOrderMamlMatchesFiniteDifferencesAndFirstOrderDoesNot() {
        Rng rng = new Rng(11);
        BaseNetwork net = tinyMlp(rng);
        // a meta-learned head and a large inner step make the second-order terms large
        MetaLearnerConfig config = MetaLearnerConfig.maml(0.5, 3).withInnerSteps(2, 2).withZeroInitHead(false);
        Task task = randomTask(rng, 3, new int[]{1, 2, 3}, 2, 1, 2);

        MetaLearner second = new MetaLearner(net, config, rng, DType.FLOAT64);
        List<double[]> numeric = finiteDifferences(second, task, null);
        List<double[]> analytic = metaGradient(second, task, null);
        MetaLearner first = new MetaLearner(net, config.withFirstOrder(true), rng, DType.FLOAT64);
        List<double[]> firstOrder = metaGradient(first, task, null);

        double scale = maxAbs(numeric);
        double secondError = maxAbsDifference(analytic, numeric);
        double firstError = maxAbsDifference(firstOrder, numeric);
        double tolerance = 1e-7 + 1e-5 * scale;
        System.out.printf("MAML 2-step meta-gradient, %d parameters, max |grad| %.3e: second-order max error %.3e, "
                + "first-order max error %.3e, tolerance %.1e%n", count(numeric), scale, secondError, firstError, tolerance);
        assertTrue(secondError < tolerance, "second-order meta-gradient differs from finite differences by " + secondError);
        assertTrue(firstError > 100 * tolerance, "first-order should visibly differ from finite differences, error " + firstError);
    }

    @Test
    void metaSgdOnConv4WithZeroHeadMatchesDirectionalDerivative() {
        Rng rng = new Rng(5);
        BaseNetwork net = BaseNetwork.conv4(1, 16, 2, 2, rng, DType.FLOAT64);
        MetaLearnerConfig config = new MetaLearnerConfig(2, 2, 0.3, true, false, true, false, false, false, 1, 3);
        Task task = randomTask(rng, 2, new int[]{1, 3}, 2, 1, 16);
        MetaLearner learner = new MetaLearner(net, config, rng, DType.FLOAT64);
        List<double[]> direction = randomDirection(learner, new Rng(99));

        double numeric = directionalDifference(learner, task, null, direction, EPS);
        double analytic = dot(metaGradient(learner, task, null), direction);
        MetaLearner firstOrder = new MetaLearner(net, config.withFirstOrder(true), rng, DType.FLOAT64);
        // the same alpha values, so only the order of the gradient differs
        copyValues(learner, firstOrder);
        double firstAnalytic = dot(metaGradient(firstOrder, task, null), direction);
        double tolerance = 1e-6 * Math.max(1, Math.abs(numeric));
        System.out.printf("Meta-SGD Conv-4 (2 filters) 2-step directional derivative: finite differences %.9e, "
                + "second order %.9e (error %.2e), first order %.9e (error %.2e)%n", numeric, analytic,
                Math.abs(analytic - numeric), firstAnalytic, Math.abs(firstAnalytic - numeric));
        assertTrue(Math.abs(analytic - numeric) < tolerance, "second order: " + analytic + " vs " + numeric);
        assertTrue(Math.abs(firstAnalytic - numeric) > 100 * tolerance, "first order should differ: " + firstAnalytic);
    }

    @Test
    void bayesianTamlMetaGradientReachesInferenceNetworkCorrectly() {
        Rng rng = new Rng(8);
        BaseNetwork net = BaseNetwork.conv4(1, 16, 2, 2, rng, DType.FLOAT64);
        MetaLearnerConfig config = new MetaLearnerConfig(2, 2, 0.3, true, false, true, true, true, true, 2, 3);
        Task task = randomTask(rng, 2, new int[]{1, 3}, 2, 1, 16);
        MetaLearner learner = new MetaLearner(net, config, rng, DType.FLOAT64);
        List<double[]> direction = randomDirection(learner, new Rng(98));
        long noiseSeed = 1234;

        // the inference network starts with N(0, 0.02²) weights, so its hidden activations are ~1e-4 and
        // a step of 1e-6 along a unit-per-element direction crosses ReLU kinks (measured: the difference
        // quotient drifts by 1e-2 at 1e-4, 2e-4 at 1e-6, 2e-9 at 1e-7); 1e-7 stays on one linear piece
        double numeric = directionalDifference(learner, task, noiseSeed, direction, 1e-7);
        List<double[]> gradient = metaGradient(learner, task, noiseSeed);
        double analytic = dot(gradient, direction);
        double tolerance = 1e-6 * Math.max(1, Math.abs(numeric));
        System.out.printf("Bayesian-TAML (omega, gamma, z; sampled) directional derivative: finite differences %.9e, "
                + "analytic %.9e, error %.2e%n", numeric, analytic, Math.abs(analytic - numeric));
        assertTrue(Math.abs(analytic - numeric) < tolerance, analytic + " vs " + numeric);
        // every part of the inference network that feeds a switched-on variable gets a gradient
        int k = 0;
        for (String name : learner.metaParameters().keySet()) {
            if (name.startsWith("inference.") && name.endsWith("weight")) {
                assertTrue(maxAbs(List.of(gradient.get(k))) > 0, "no gradient reached " + name);
            }
            k++;
        }
        assertNotNull(learner.posterior(task).omegaMu());
    }

    private static void copyValues(MetaLearner from, MetaLearner to) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : from.metaParameters().entrySet()) {
                Tensor target = to.metaParameters().get(e.getKey());
                if (target != e.getValue()) target.assign(e.getValue());
            }
        }
    }

    private static int count(List<double[]> a) {
        int n = 0;
        for (double[] x : a) n += x.length;
        return n;
    }
}
