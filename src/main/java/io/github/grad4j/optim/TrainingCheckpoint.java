package io.github.grad4j.optim;

import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.nn.Module;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A whole training state in ONE safetensors file, written atomically: the model's state dict under
 * its own names (so the file also loads as a plain model checkpoint), the optimizer's state dict
 * under "optim.", and in {@code __metadata__} the training step ("grad4j.step"), each named random
 * generator ("grad4j.rng.NAME.seed", "grad4j.rng.NAME.counter") and the caller's own string
 * metadata (keys must not start with "grad4j.").
 *
 * <p>{@link #load} checks everything (format, names, shapes, dtypes, metadata) before changing
 * anything, so a file that does not match leaves the model, optimizer and generators untouched.
 */
public final class TrainingCheckpoint {
    /** Prefix of the optimizer's tensors in the file. */
    public static final String OPTIMIZER_PREFIX = "optim.";
    private static final String RESERVED = "grad4j.";
    private static final String STEP_KEY = RESERVED + "step";
    private static final String RNG_PREFIX = RESERVED + "rng.";

    private TrainingCheckpoint() {
    }

    /** What a loaded checkpoint says besides the tensors: the step and the caller's metadata. */
    public record Restored(long step, Map<String, String> metadata) {
    }

    /** A checkpoint that does not fit the model/optimizer/generators it is loaded into. */
    public static final class MismatchException extends IOException {
        public MismatchException(Path file, List<String> problems) {
            super(file + ": checkpoint does not match: " + String.join("; ", problems));
        }
    }

    /**
     * Saves the state atomically.
     *
     * @param optimizer  may be null (then no "optim." tensors are written)
     * @param generators named random generators whose (seed, counter) to save (e.g. data sampling, dropout)
     * @param metadata   the caller's string metadata (config, data position, ...)
     */
    public static void save(Path file, Module model, Optimizer optimizer, long step, Map<String, Rng> generators,
                            Map<String, String> metadata) throws IOException {
        save(file, model.stateDict(), optimizer, step, generators, metadata);
    }

    /**
     * Saves named tensors that are not a {@link Module} (e.g. a meta-learner's meta-parameters)
     * with the optimizer state, step, generators and metadata, as {@link #save(Path, Module,
     * Optimizer, long, Map, Map)} does.
     */
    public static void save(Path file, Map<String, Tensor> state, Optimizer optimizer, long step,
                            Map<String, Rng> generators, Map<String, String> metadata) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            if (e.getKey().startsWith(OPTIMIZER_PREFIX)) {
                throw new IllegalArgumentException("TrainingCheckpoint.save: model tensor '" + e.getKey()
                        + "' collides with the optimizer prefix '" + OPTIMIZER_PREFIX + "'");
            }
            tensors.put(e.getKey(), e.getValue());
        }
        if (optimizer != null) {
            for (Map.Entry<String, Tensor> e : optimizer.stateDict().entrySet()) tensors.put(OPTIMIZER_PREFIX + e.getKey(), e.getValue());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey().startsWith(RESERVED)) {
                throw new IllegalArgumentException("TrainingCheckpoint.save: metadata key '" + e.getKey()
                        + "' uses the reserved prefix '" + RESERVED + "'");
            }
            meta.put(e.getKey(), e.getValue());
        }
        meta.put(STEP_KEY, Long.toString(step));
        for (Map.Entry<String, Rng> e : generators.entrySet()) {
            meta.put(RNG_PREFIX + e.getKey() + ".seed", Long.toString(e.getValue().seed()));
            meta.put(RNG_PREFIX + e.getKey() + ".counter", Long.toString(e.getValue().counter()));
        }
        SafeTensors.save(file, tensors, meta);
    }

    /** Saves with one generator, named "default". */
    public static void save(Path file, Module model, Optimizer optimizer, long step, Rng rng, Map<String, String> metadata)
            throws IOException {
        save(file, model, optimizer, step, Map.of("default", rng), metadata);
    }

    /**
     * Loads a checkpoint into {@code model}, {@code optimizer} (may be null: its tensors are then
     * ignored) and the given generators (restored in place, by name). Every model tensor must be
     * present with the same shape and dtype and no unknown tensor may appear; the optimizer state
     * must match too. On any mismatch nothing is changed and a {@link MismatchException} names the
     * file and every offending tensor; a malformed or truncated file gives a
     * {@link SafeTensors.FormatException} naming the file.
     */
    public static Restored load(Path file, Module model, Optimizer optimizer, Map<String, Rng> generators) throws IOException {
        return load(file, model.stateDict(), loaded -> model.loadStateDict(loaded, true), optimizer, generators);
    }

    /**
     * Loads into named tensors that are not a {@link Module}: each is overwritten in place (converted
     * to its own dtype and backend), with the same all-or-nothing checks as the Module version.
     */
    public static Restored load(Path file, Map<String, Tensor> state, Optimizer optimizer, Map<String, Rng> generators)
            throws IOException {
        return load(file, state, loaded -> {
            try (io.github.grad4j.autograd.GradMode.Scope ignored = io.github.grad4j.autograd.GradMode.noGrad()) {
                for (Map.Entry<String, Tensor> e : state.entrySet()) {
                    Tensor dst = e.getValue();
                    Tensor src = loaded.get(e.getKey()).to(dst.backend());
                    dst.assign(src.dtype() == dst.dtype() ? src : src.toDType(dst.dtype()));
                }
            }
        }, optimizer, generators);
    }

    private static Restored load(Path file, Map<String, Tensor> expected, java.util.function.Consumer<Map<String, Tensor>> apply,
                                 Optimizer optimizer, Map<String, Rng> generators) throws IOException {
        // read on the host: loadStateDict moves each tensor to its target's backend, and a device
        // backend may not hold every dtype a checkpoint carries (OpenCL has no FLOAT64)
        SafeTensors.Contents contents = SafeTensors.read(file, io.github.grad4j.backend.reference.ReferenceBackend.INSTANCE);

        Map<String, Tensor> modelTensors = new LinkedHashMap<>();
        Map<String, Tensor> optimizerTensors = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : contents.tensors().entrySet()) {
            if (e.getKey().startsWith(OPTIMIZER_PREFIX)) {
                optimizerTensors.put(e.getKey().substring(OPTIMIZER_PREFIX.length()), e.getValue());
            } else {
                modelTensors.put(e.getKey(), e.getValue());
            }
        }

        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            Tensor have = modelTensors.get(e.getKey());
            Tensor want = e.getValue();
            if (have == null) {
                problems.add("missing tensor '" + e.getKey() + "' (" + want.dtype() + " " + Shape.str(want.shape()) + ")");
            } else if (have.dtype() != want.dtype() || !Arrays.equals(have.shape(), want.shape())) {
                problems.add("tensor '" + e.getKey() + "' is " + have.dtype() + " " + Shape.str(have.shape())
                        + " in the file but " + want.dtype() + " " + Shape.str(want.shape()) + " in the model");
            }
        }
        for (String name : modelTensors.keySet()) {
            if (!expected.containsKey(name)) problems.add("unexpected tensor '" + name + "' (the model has no such name)");
        }
        if (optimizer != null) {
            problems.addAll(optimizer.checkStateDict(optimizerTensors, OPTIMIZER_PREFIX));
        }

        Map<String, String> meta = contents.metadata();
        Long step = parseLong(meta, STEP_KEY, problems);
        Map<String, long[]> rngStates = new LinkedHashMap<>();
        for (String name : generators.keySet()) {
            Long seed = parseLong(meta, RNG_PREFIX + name + ".seed", problems);
            Long counter = parseLong(meta, RNG_PREFIX + name + ".counter", problems);
            if (seed != null && counter != null) rngStates.put(name, new long[]{seed, counter});
        }
        if (!problems.isEmpty()) throw new MismatchException(file, problems);

        apply.accept(modelTensors);
        if (optimizer != null) optimizer.loadStateDict(optimizerTensors);
        for (Map.Entry<String, long[]> e : rngStates.entrySet()) {
            generators.get(e.getKey()).restore(e.getValue()[0], e.getValue()[1]);
        }
        Map<String, String> userMetadata = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : meta.entrySet()) {
            if (!e.getKey().startsWith(RESERVED)) userMetadata.put(e.getKey(), e.getValue());
        }
        return new Restored(step, userMetadata);
    }

    /** Loads with one generator, named "default". */
    public static Restored load(Path file, Module model, Optimizer optimizer, Rng rng) throws IOException {
        return load(file, model, optimizer, Map.of("default", rng));
    }

    private static Long parseLong(Map<String, String> meta, String key, List<String> problems) {
        String text = meta.get(key);
        if (text == null) {
            problems.add("missing metadata '" + key + "'");
            return null;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            problems.add("metadata '" + key + "' = '" + text + "' is not an integer");
            return null;
        }
    }
}
