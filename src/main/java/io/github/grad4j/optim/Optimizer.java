package io.github.grad4j.optim;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * Updates a fixed set of named parameters from their gradients.
 *
 * <p>{@link #step()} runs under {@link GradMode#noGrad()} and writes each parameter in place with
 * {@link Tensor#assign}, so parameters stay leaves and no graph is recorded. Parameters whose
 * gradient is null are skipped and their state is left alone (as PyTorch does).
 *
 * <p>Per-parameter state (momentum buffers, Adam moments, Adam's step count) lives in tensors named
 * {@code <parameter name>.<slot>}; {@link #stateDict()} returns them together with "step" (number
 * of {@code step()} calls) and "learning_rate", so that training resumes exactly. Hyperparameters
 * other than the learning rate are configuration, not state: build the resumed optimizer with the
 * same ones.
 */
public abstract class Optimizer {

    /** What one slot of per-parameter state holds. */
    protected enum Slot {
        /** A tensor of the parameter's shape and dtype. */
        LIKE_PARAMETER,
        /** An INT32 scalar counter. */
        COUNT
    }

    /** Weight decay for every parameter (PyTorch's default). */
    public static final BiPredicate<String, Tensor> DECAY_ALL = (name, p) -> true;

    /**
     * Weight decay only for parameters of rank 2 or more: matrices and embeddings decay, biases and
     * LayerNorm gains do not (the rule nanoGPT uses for GPT-2).
     */
    public static final BiPredicate<String, Tensor> DECAY_MATRICES_ONLY = (name, p) -> p.dim() >= 2;

    private final List<String> names = new ArrayList<>();
    private final List<Tensor> params = new ArrayList<>();
    private final Map<String, Map<String, Tensor>> state = new LinkedHashMap<>();
    private double learningRate;
    private long stepCount;
    private BiPredicate<String, Tensor> decayFilter = DECAY_ALL;

    /**
     * @param namedParameters parameters by name (e.g. {@code module.namedParameters()}); a tensor listed
     *                        under several names (tied weights) is updated once, under its first name
     */
    protected Optimizer(String kind, Map<String, Tensor> namedParameters, double learningRate) {
        if (namedParameters.isEmpty()) throw new IllegalArgumentException(kind + ": no parameters to optimize");
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Tensor> e : namedParameters.entrySet()) {
            Tensor p = e.getValue();
            if (p == null) throw new IllegalArgumentException(kind + ": parameter '" + e.getKey() + "' is null");
            if (!p.dtype().isFloatingPoint() || !p.isLeaf() || !p.requiresGrad()) {
                throw new IllegalArgumentException(kind + ": parameter '" + e.getKey() + "' (" + p.dtype() + " "
                        + Shape.str(p.shape()) + ") must be a floating-point leaf that requires a gradient");
            }
            if (!seen.add(p)) continue;
            names.add(e.getKey());
            params.add(p);
        }
        setLearningRate(learningRate);
    }

    /** Names "0", "1", ... for an unnamed parameter list. */
    public static Map<String, Tensor> indexed(List<Tensor> parameters) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < parameters.size(); i++) out.put(Integer.toString(i), parameters.get(i));
        return out;
    }

    /** The slots of per-parameter state this optimizer keeps, by name. */
    protected abstract Map<String, Slot> slots();

    /**
     * Computes the new value of one parameter. Called under no-grad.
     *
     * @param state       this parameter's state (empty before its first update); update it in place
     *                    or put new tensors
     * @param weightDecay the decay for this parameter (0 where the decay filter excludes it)
     */
    protected abstract Tensor update(Tensor param, Tensor grad, Map<String, Tensor> state, double lr, double weightDecay);

    /**
     * Updates one parameter in place (same arguments and result as {@link #update}), for optimizers
     * with a fused kernel; returns false, having changed nothing, to use {@link #update} instead.
     */
    protected boolean updateInPlace(Tensor param, Tensor grad, Map<String, Tensor> state, double lr, double weightDecay) {
        return false;
    }

    /** The configured weight decay (0 if none). */
    protected abstract double weightDecay();

    /** Chooses which parameters weight decay applies to (by name and tensor); returns this optimizer. */
    public Optimizer setWeightDecayFilter(BiPredicate<String, Tensor> decays) {
        this.decayFilter = java.util.Objects.requireNonNull(decays, "decays");
        return this;
    }

    /** Applies one update to every parameter that has a gradient. */
    public void step() {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                Tensor g = p.grad();
                if (g == null) continue;
                String name = names.get(i);
                if (g.dtype() != p.dtype() || !Arrays.equals(g.shape(), p.shape())) {
                    throw new IllegalStateException(getClass().getSimpleName() + ".step: gradient of '" + name + "' is "
                            + g.dtype() + " " + Shape.str(g.shape()) + ", parameter " + p.dtype() + " " + Shape.str(p.shape()));
                }
                double wd = decayFilter.test(name, p) ? weightDecay() : 0;
                Map<String, Tensor> s = state.computeIfAbsent(name, k -> new LinkedHashMap<>());
                if (updateInPlace(p, g.detach(), s, learningRate, wd)) continue;
                p.assign(update(p, g.detach(), s, learningRate, wd));
            }
        }
        stepCount++;
    }

    /** Clears the gradients of all parameters (sets them to null, as PyTorch's default). */
    public void zeroGrad() {
        for (Tensor p : params) p.setGrad(null);
    }

    public double learningRate() {
        return learningRate;
    }

    /** Sets the learning rate used by the next steps (a schedule calls this before each step). */
    public void setLearningRate(double learningRate) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got "
                    + learningRate);
        }
        this.learningRate = learningRate;
    }

    /** How many times {@link #step()} has run. */
    public long stepCount() {
        return stepCount;
    }

    /** The optimized parameters by name (tied duplicates removed). */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) out.put(names.get(i), params.get(i));
        return out;
    }

    // ---------------------------------------------------------------- state

    /**
     * Everything needed to resume: "step" (INT32 scalar), "learning_rate" (FLOAT64 scalar) and each
     * parameter's state slots as {@code <name>.<slot>}. The tensors are copies.
     */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("step", countTensor(stepCount));
        // a host-side record: a device backend may hold no FLOAT64 (OpenCL does not)
        out.put("learning_rate", new Tensor(io.github.grad4j.backend.reference.ReferenceBackend.INSTANCE
                .upload(new double[]{learningRate}, DType.FLOAT64), new int[0]));
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (String name : names) {
                Map<String, Tensor> s = state.get(name);
                if (s == null) continue;
                for (Map.Entry<String, Tensor> e : s.entrySet()) out.put(name + "." + e.getKey(), copy(e.getValue()));
            }
        }
        return out;
    }

    private static Tensor copy(Tensor t) {
        Tensor c = Tensor.zeros(t.backend(), t.dtype(), t.shape());
        return c.assign(t);
    }

    /**
     * What is wrong with {@code stateDict} for this optimizer (names, shapes, dtypes), one entry per
     * problem naming the tensor; empty when {@link #loadStateDict} would accept it.
     */
    public List<String> checkStateDict(Map<String, Tensor> stateDict) {
        return checkStateDict(stateDict, "");
    }

    /** As {@link #checkStateDict(Map)}, naming tensors with {@code keyPrefix} (their prefix in a file). */
    List<String> checkStateDict(Map<String, Tensor> stateDict, String keyPrefix) {
        List<String> problems = new ArrayList<>();
        checkScalar(stateDict, "step", DType.INT32, keyPrefix, problems);
        checkScalar(stateDict, "learning_rate", DType.FLOAT64, keyPrefix, problems);
        Map<String, Slot> slots = slots();
        Set<String> known = new java.util.HashSet<>(List.of("step", "learning_rate"));
        for (int i = 0; i < params.size(); i++) {
            String name = names.get(i);
            Tensor p = params.get(i);
            int present = 0;
            for (Map.Entry<String, Slot> slot : slots.entrySet()) {
                String key = name + "." + slot.getKey();
                known.add(key);
                Tensor t = stateDict.get(key);
                if (t == null) continue;
                present++;
                boolean count = slot.getValue() == Slot.COUNT;
                DType dtype = count ? DType.INT32 : p.dtype();
                int[] shape = count ? new int[0] : p.shape();
                if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape)) {
                    problems.add("optimizer state '" + keyPrefix + key + "' is " + t.dtype() + " " + Shape.str(t.shape()) + ", expected "
                            + dtype + " " + Shape.str(shape));
                }
            }
            if (present != 0 && present != slots.size()) {
                problems.add("optimizer state of parameter '" + name + "' is incomplete: has " + present + " of the slots "
                        + slots.keySet());
            }
        }
        for (String k : stateDict.keySet()) {
            if (!known.contains(k)) problems.add("unexpected optimizer state '" + keyPrefix + k + "'");
        }
        return problems;
    }

    private static void checkScalar(Map<String, Tensor> sd, String key, DType dtype, String keyPrefix,
                                    List<String> problems) {
        Tensor t = sd.get(key);
        if (t == null) problems.add("missing optimizer state '" + keyPrefix + key + "'");
        else if (t.dtype() != dtype || t.dim() != 0) {
            problems.add("optimizer state '" + keyPrefix + key + "' is " + t.dtype() + " " + Shape.str(t.shape()) + ", expected "
                    + dtype + " []");
        }
    }

    /**
     * Replaces the whole optimizer state with {@code stateDict} (as {@link #stateDict()} wrote it).
     * Everything is checked first, so a mismatched state changes nothing.
     */
    public void loadStateDict(Map<String, Tensor> stateDict) {
        List<String> problems = checkStateDict(stateDict);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ".loadStateDict: " + String.join("; ", problems));
        }
        Map<String, Map<String, Tensor>> loaded = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            String name = names.get(i);
            Tensor p = params.get(i);
            for (String slot : slots().keySet()) {
                Tensor t = stateDict.get(name + "." + slot);
                if (t == null) continue;
                Tensor c = Tensor.zeros(p.backend(), t.dtype(), t.shape());
                c.assign(t.backend() == p.backend() ? t : t.to(p.backend()));
                loaded.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(slot, c);
            }
        }
        state.clear();
        state.putAll(loaded);
        stepCount = (long) stateDict.get("step").item();
        setLearningRate(stateDict.get("learning_rate").item());
    }

    /** An INT32 scalar holding a count. */
    protected static Tensor countTensor(long value) {
        if (value > Integer.MAX_VALUE) throw new IllegalStateException("optimizer count " + value + " exceeds INT32");
        return Tensor.ofInts(new int[]{(int) value});
    }
}
