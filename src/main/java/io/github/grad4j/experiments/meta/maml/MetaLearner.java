package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Init;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * MAML, Meta-SGD and Bayesian-TAML over one {@link BaseNetwork}; which one is decided by the
 * {@link MetaLearnerConfig}.
 *
 * <p>Per task: balancing variables are drawn from the inference network's posterior (Bayesian-TAML
 * only); the initial weights are the meta-learned theta, modulated by z, with the head at zero; then
 * every inner step is theta ← theta − alpha · exp(gamma_layer) · ∇ inner loss, where the inner loss
 * is the support cross-entropy, per class re-weighted by softmax(omega). During meta-training the
 * inner gradients are taken with {@code createGraph}, so the query loss's gradient reaches theta,
 * alpha and the inference network through every inner step (full second order), unless
 * {@link MetaLearnerConfig#firstOrder()} detaches them.
 *
 * <p>Meta-parameters are named "theta.NAME" (the network's, minus a zero-started head), "alpha.NAME"
 * (Meta-SGD) and "inference.NAME"; {@link #metaParameters()} gives them to an optimizer.
 */
public final class MetaLearner {
    private final BaseNetwork base;
    private final MetaLearnerConfig config;
    private final DType dtype;
    private final Map<String, Tensor> innerLrs = new LinkedHashMap<>();
    private final Map<String, Integer> layerOf = new HashMap<>();
    private final InferenceNetwork inference;
    private final Map<String, Tensor> metaParameters = new LinkedHashMap<>();

    /** The balancing variables of one task (null where switched off) and their KL to the prior (or null). */
    public record Balancing(Tensor omega, Tensor gamma, Tensor z, Tensor kl) {
        static final Balancing NONE = new Balancing(null, null, null, null);
    }

    /** One task's meta-training objective (differentiable) and what it measured. */
    public record Outcome(Tensor objective, double queryLoss, double kl, double accuracy) {
    }

    public MetaLearner(BaseNetwork base, MetaLearnerConfig config, Rng rng, DType dtype) {
        this.base = base;
        this.config = config;
        this.dtype = dtype;
        List<List<String>> layers = base.adaptedLayers();
        for (int l = 0; l < layers.size(); l++) for (String n : layers.get(l)) layerOf.put(n, l);
        Map<String, Tensor> params = base.network().namedParameters();
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            if (config.zeroInitHead() && base.headParams().contains(e.getKey())) continue;
            metaParameters.put("theta." + e.getKey(), e.getValue());
        }
        if (config.learnedInnerLr()) {
            for (String name : base.adaptedNames()) {
                int[] shape = params.get(name).shape();
                // the head's step sizes are shared across classes, as in l2b: class labels are
                // arbitrary within a task, so no output row may be favoured
                if (base.headParams().contains(name)) shape[0] = 1;
                Tensor alpha = Init.ones(dtype, shape).mul(config.innerLr()).detach().requiresGrad(true);
                innerLrs.put(name, alpha);
                metaParameters.put("alpha." + name, alpha);
            }
        }
        if (config.anyBalancing()) {
            inference = new InferenceNetwork(base.inputChannels(), base.imageSize(), base.ways(), layers.size(),
                    base.modulationSize(), config.maxShot(), rng, dtype);
            inference.namedParameters().forEach((n, p) -> metaParameters.put("inference." + n, p));
        } else {
            inference = null;
        }
    }

    public MetaLearnerConfig config() {
        return config;
    }

    public BaseNetwork base() {
        return base;
    }

    /** Everything the outer optimizer updates, by name (insertion order is stable). */
    public Map<String, Tensor> metaParameters() {
        return Collections.unmodifiableMap(metaParameters);
    }

    // ---------------------------------------------------------------- balancing variables

    /** The posterior of the balancing variables for a task, or null without an inference network. */
    public InferenceNetwork.Posterior posterior(Task task) {
        if (inference == null) return null;
        return inference.posterior(task.supportX(), task.supportY().toIntArray(), config.omega(), config.gamma(),
                config.z());
    }

    /**
     * Balancing variables for a task: a sample mu + sigma * eps with eps from {@code rng}, or the
     * posterior mean when {@code rng} is null. KL counts only the variables switched on.
     */
    public Balancing balancing(Task task, Rng rng) {
        InferenceNetwork.Posterior q = posterior(task);
        if (q == null) return Balancing.NONE;
        Tensor kl = null;
        Tensor omega = null, gamma = null, z = null;
        if (config.omega()) {
            omega = draw(q.omegaMu(), q.omegaSigma(), rng);
            kl = InferenceNetwork.klToStandardNormal(q.omegaMu(), q.omegaSigma());
        }
        if (config.gamma()) {
            gamma = draw(q.gammaMu(), q.gammaSigma(), rng);
            Tensor k = InferenceNetwork.klToStandardNormal(q.gammaMu(), q.gammaSigma());
            kl = kl == null ? k : kl.add(k);
        }
        if (config.z()) {
            z = draw(q.zMu(), q.zSigma(), rng);
            Tensor k = InferenceNetwork.klToStandardNormal(q.zMu(), q.zSigma());
            kl = kl == null ? k : kl.add(k);
        }
        return new Balancing(omega, gamma, z, kl);
    }

    private Tensor draw(Tensor mu, Tensor sigma, Rng rng) {
        if (rng == null) return mu;
        Tensor eps = Tensor.randn(rng, 1.0, mu.dtype(), mu.shape()).to(mu.backend());
        return mu.add(sigma.mul(eps));
    }

    // ---------------------------------------------------------------- inner loop

    /** theta modulated by z, with a zero head when configured: the start of every task's adaptation. */
    Map<String, Tensor> initialWeights(Balancing b) {
        Map<String, Tensor> params = base.network().namedParameters();
        Map<String, Tensor> fast = new LinkedHashMap<>();
        for (String name : base.adaptedNames()) {
            Tensor p = params.get(name);
            if (config.zeroInitHead() && base.headParams().contains(name)) {
                p = Tensor.zeros(p.backend(), p.dtype(), p.shape()).requiresGrad(true);
            }
            fast.put(name, p);
        }
        if (b.z() != null) {
            int offset = 0;
            for (BaseNetwork.ModulatedLayer m : base.modulated()) {
                Tensor zw = b.z().narrow(0, offset, m.channels());
                Tensor zb = b.z().narrow(0, offset + m.channels(), m.channels());
                offset += 2 * m.channels();
                Tensor w = fast.get(m.weight());
                int[] perChannel = new int[w.dim()];
                java.util.Arrays.fill(perChannel, 1);
                perChannel[0] = m.channels();
                fast.put(m.weight(), w.mul(zw.reshape(perChannel).add(1.0)));
                fast.put(m.bias(), fast.get(m.bias()).add(zb));
            }
        }
        return fast;
    }

    /** Logits of the network run with the given adapted weights. */
    public Tensor logits(Map<String, Tensor> fast, Tensor x) {
        return base.network().functionalCall(fast, () -> base.network().forward(x));
    }

    /**
     * The inner-loop loss: mean support cross-entropy, or with omega the l2b per-class form
     * sum_c softmax(omega)_c · L_c where L_c = (N / S) · (sum of class c's losses), so that
     * uniform omega gives back the mean.
     */
    Tensor innerLoss(Map<String, Tensor> fast, Task task, Tensor omega) {
        Tensor logits = logits(fast, task.supportX());
        if (omega == null) return Functional.crossEntropy(logits, task.supportY());
        Tensor losses = Functional.crossEntropy(logits, task.supportY(), Integer.MIN_VALUE, Functional.Reduction.NONE);
        Tensor oneHot = Indexing.oneHot(task.supportY(), task.ways(), logits.dtype());        // [S, N]
        Tensor perClass = oneHot.mT().matmul(losses.reshape(-1, 1)).reshape(task.ways())
                .mul((double) task.ways() / task.supportSize());
        return perClass.mul(omega.softmax(0)).sum();
    }

    /**
     * Adapts to a task's support set in {@code steps} inner steps. With {@code metaGraph} the result
     * stays differentiable with respect to the meta-parameters (second order unless configured
     * first-order); without it every step starts from detached weights, for meta-testing.
     */
    public Map<String, Tensor> adapt(Task task, Balancing b, int steps, boolean metaGraph) {
        Map<String, Tensor> fast = initialWeights(b);
        if (!metaGraph) fast = detached(fast);
        List<String> names = new ArrayList<>(fast.keySet());
        boolean createGraph = metaGraph && !config.firstOrder();
        for (int step = 0; step < steps; step++) {
            Tensor loss = innerLoss(fast, task, b.omega());
            Tensor[] current = new Tensor[names.size()];
            for (int i = 0; i < current.length; i++) current[i] = fast.get(names.get(i));
            // retainGraph: the updates of earlier steps lie on this graph and the outer backward needs them
            Tensor[] grads = Autograd.grad(new Tensor[]{loss}, current, null, createGraph, metaGraph, true);
            Map<String, Tensor> next = new LinkedHashMap<>();
            try (GradMode.Scope ignored = metaGraph ? GradMode.enableGrad() : GradMode.noGrad()) {
                for (int i = 0; i < current.length; i++) {
                    String name = names.get(i);
                    Tensor g = grads[i];
                    if (g == null) {
                        next.put(name, current[i]);
                        continue;
                    }
                    Tensor update = innerLrs.isEmpty() ? g.mul(config.innerLr()) : g.mul(innerLrs.get(name));
                    if (b.gamma() != null) update = update.mul(b.gamma().select(0, layerOf.get(name)).exp());
                    next.put(name, current[i].sub(update));
                }
            }
            fast = metaGraph ? next : detached(next);
        }
        return fast;
    }

    private static Map<String, Tensor> detached(Map<String, Tensor> weights) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        weights.forEach((n, t) -> out.put(n, t.detach().requiresGrad(true)));
        return out;
    }

    // ---------------------------------------------------------------- outer loop

    /**
     * One task's meta-objective: query cross-entropy after {@link MetaLearnerConfig#innerStepsTrain()}
     * adapted steps, plus KL / (support + query size). One balancing sample drawn from {@code rng}
     * (null: the posterior mean).
     */
    public Outcome metaObjective(Task task, Rng rng) {
        Balancing b = balancing(task, rng);
        Map<String, Tensor> fast = adapt(task, b, config.innerStepsTrain(), true);
        Tensor logits = logits(fast, task.queryX());
        Tensor ce = Functional.crossEntropy(logits, task.queryY());
        Tensor objective = ce;
        double kl = 0;
        if (b.kl() != null) {
            objective = ce.add(b.kl().div(task.supportSize() + task.querySize()));
            kl = b.kl().item();
        }
        return new Outcome(objective, ce.item(), kl, accuracy(logits.detach().toDoubleArray(), task));
    }

    /** What one meta-batch step measured, averaged over its tasks. */
    public record StepStats(double queryLoss, double kl, double accuracy) {
    }

    /**
     * One meta-training step: the mean objective over {@code tasks}, backpropagated task by task (so
     * only one task's second-order graph is alive at a time), then one optimizer step.
     */
    public StepStats metaTrainStep(List<Task> tasks, Optimizer optimizer, Rng rng) {
        optimizer.zeroGrad();
        double loss = 0, kl = 0, acc = 0;
        Tensor weight = null;
        for (Task task : tasks) {
            Outcome o = metaObjective(task, rng);
            if (weight == null) weight = o.objective().constant(1.0 / tasks.size());
            o.objective().backward(weight, false);
            loss += o.queryLoss();
            kl += o.kl();
            acc += o.accuracy();
        }
        optimizer.step();
        int m = tasks.size();
        return new StepStats(loss / m, kl / m, acc / m);
    }

    /**
     * Meta-test prediction: class probabilities [Q][N] for the query set after
     * {@link MetaLearnerConfig#innerStepsTest()} steps, averaged over
     * {@link MetaLearnerConfig#testSamples()} draws of the balancing variables (the posterior mean
     * when one sample is asked for, and for learners without balancing variables).
     */
    public double[][] predict(Task task, Rng rng) {
        int samples = config.anyBalancing() ? config.testSamples() : 1;
        int q = task.querySize(), n = task.ways();
        double[][] mean = new double[q][n];
        for (int s = 0; s < samples; s++) {
            Balancing b;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                b = balancing(task, samples == 1 ? null : rng);
            }
            Map<String, Tensor> fast = adapt(task, detachAll(b), config.innerStepsTest(), false);
            double[] p;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                p = logits(fast, task.queryX()).softmax(1).toDoubleArray();
            }
            for (int i = 0; i < q; i++) for (int c = 0; c < n; c++) mean[i][c] += p[i * n + c] / samples;
        }
        return mean;
    }

    private static Balancing detachAll(Balancing b) {
        return new Balancing(b.omega() == null ? null : b.omega().detach(), b.gamma() == null ? null : b.gamma().detach(),
                b.z() == null ? null : b.z().detach(), null);
    }

    /** Fraction of query examples whose largest score is the true class. */
    static double accuracy(double[] scores, Task task) {
        int n = task.ways();
        int[] y = task.queryY().toIntArray();
        int correct = 0;
        for (int i = 0; i < y.length; i++) {
            int best = 0;
            for (int c = 1; c < n; c++) if (scores[i * n + c] > scores[i * n + best]) best = c;
            if (best == y[i]) correct++;
        }
        return (double) correct / y.length;
    }

    /** Accuracy of averaged probabilities from {@link #predict}. */
    public static double accuracy(double[][] probabilities, Task task) {
        int n = task.ways();
        double[] flat = new double[probabilities.length * n];
        for (int i = 0; i < probabilities.length; i++) System.arraycopy(probabilities[i], 0, flat, i * n, n);
        return accuracy(flat, task);
    }

    public DType dtype() {
        return dtype;
    }
}
