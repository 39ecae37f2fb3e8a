package io.github.grad4j.nn;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A building block with named parameters (trainable leaves), buffers (state that is saved but not
 * trained, such as batch-norm running statistics), child modules, and a train/eval mode.
 *
 * <p>Names are dotted paths ("h.0.attn.c_attn.weight"), the same names checkpoints use. Layers read
 * their parameters through {@link #param(String)}, which lets {@link #functionalCall} substitute
 * other tensors for them: MAML-style inner loops run the same module with adapted weights without
 * touching the stored ones.
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;
    private Map<String, Tensor> overrides;

    /** Registers a trainable parameter (marked as requiring a gradient). */
    protected Tensor registerParameter(String name, Tensor value) {
        checkName(name);
        value.requiresGrad(true);
        parameters.put(name, value);
        return value;
    }

    /** Registers saved, untrained state. */
    protected Tensor registerBuffer(String name, Tensor value) {
        checkName(name);
        buffers.put(name, value);
        return value;
    }

    protected <M extends Module> M registerModule(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module member name '" + name + "' must be non-empty without dots");
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("module member '" + name + "' registered twice");
        }
    }

    /** This module's own parameter, or its substitute inside {@link #functionalCall}. */
    protected final Tensor param(String name) {
        if (overrides != null) {
            Tensor t = overrides.get(name);
            if (t != null) return t;
        }
        Tensor t = parameters.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no parameter '" + name + "'");
        return t;
    }

    /** This module's own buffer. */
    protected final Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name + "'");
        return t;
    }

    /** Replaces a buffer's tensor (e.g. when a loaded buffer must keep its identity elsewhere). */
    protected final void setBuffer(String name, Tensor value) {
        if (!buffers.containsKey(name)) throw new IllegalArgumentException("no buffer '" + name + "'");
        buffers.put(name, value);
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** All parameters of this module and its descendants, by dotted name, in registration order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return out;
    }

    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean params) {
        for (Map.Entry<String, Tensor> e : (params ? parameters : buffers).entrySet()) out.put(prefix + e.getKey(), e.getValue());
        for (Map.Entry<String, Module> c : children.entrySet()) c.getValue().collect(prefix + c.getKey() + ".", out, params);
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Parameters and buffers by name: what a checkpoint holds. */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = namedParameters();
        out.putAll(namedBuffers());
        return out;
    }

    /**
     * Copies values into parameters and buffers. Every shape is checked before anything is copied,
     * so a mismatched checkpoint changes nothing. With {@code strict}, missing and unexpected names
     * are errors too.
     */
    public void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> own = stateDict();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : own.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) {
                if (strict) problems.add("missing tensor '" + e.getKey() + "' " + Shape.str(e.getValue().shape()));
                continue;
            }
            if (!Arrays.equals(src.shape(), e.getValue().shape())) {
                problems.add("tensor '" + e.getKey() + "' has shape " + Shape.str(src.shape()) + " in the checkpoint but "
                        + Shape.str(e.getValue().shape()) + " in the model");
            }
        }
        if (strict) {
            for (String k : state.keySet()) if (!own.containsKey(k)) problems.add("unexpected tensor '" + k + "'");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("loadStateDict: " + String.join("; ", problems));
        }
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : own.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src == null) continue;
                Tensor dst = e.getValue();
                Tensor converted = src.backend() == dst.backend() ? src : src.to(dst.backend());
                dst.assign(converted.dtype() == dst.dtype() ? converted : converted.toDType(dst.dtype()));
            }
        }
    }

    public boolean isTraining() {
        return training;
    }

    /** Sets train (true) or eval (false) mode here and in all descendants. */
    public Module train(boolean mode) {
        training = mode;
        for (Module c : children.values()) c.train(mode);
        return this;
    }

    public Module eval() {
        return train(false);
    }

    /** Clears the accumulated gradients of all parameters. */
    public void zeroGrad() {
        for (Tensor p : parameters()) p.setGrad(null);
    }

    /**
     * Runs {@code body} with some parameters replaced by other tensors (by dotted name), e.g. the
     * adapted weights of a MAML inner loop, whose graph then reaches back to the originals.
     */
    public <T> T functionalCall(Map<String, Tensor> replacements, Supplier<T> body) {
        Map<String, Tensor> own = namedParameters();
        for (Map.Entry<String, Tensor> e : replacements.entrySet()) {
            Tensor mine = own.get(e.getKey());
            if (mine == null) throw new IllegalArgumentException("functionalCall: no parameter named '" + e.getKey() + "'");
            if (!Arrays.equals(mine.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("functionalCall: '" + e.getKey() + "' has shape "
                        + Shape.str(mine.shape()) + ", replacement " + Shape.str(e.getValue().shape()));
            }
        }
        setOverrides("", replacements);
        try {
            return body.get();
        } finally {
            clearOverrides();
        }
    }

    private void setOverrides(String prefix, Map<String, Tensor> all) {
        Map<String, Tensor> mine = new LinkedHashMap<>();
        for (String name : parameters.keySet()) {
            Tensor t = all.get(prefix + name);
            if (t != null) mine.put(name, t);
        }
        overrides = mine.isEmpty() ? null : mine;
        for (Map.Entry<String, Module> c : children.entrySet()) c.getValue().setOverrides(prefix + c.getKey() + ".", all);
    }

    private void clearOverrides() {
        overrides = null;
        for (Module c : children.values()) c.clearOverrides();
    }

    /** Total number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (Tensor p : parameters()) n += p.numel();
        return n;
    }
}
