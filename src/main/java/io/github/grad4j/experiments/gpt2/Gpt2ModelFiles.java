package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.io.Json;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.optim.TrainingCheckpoint;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Tensor;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Loads a model from either kind of folder a person may point at: a Hugging Face directory
 * ({@code config.json} + {@code model.safetensors}, which a finished {@link Gpt2Trainer} run also
 * writes) or a training output folder that holds only {@link Gpt2Trainer#CHECKPOINT_FILE} (a run
 * that was stopped before its end). The Hugging Face files win where both exist.
 */
public final class Gpt2ModelFiles {
    private Gpt2ModelFiles() {
    }

    /** A FLOAT32 model on the default backend. */
    public static Gpt2Model load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new FileNotFoundException(dir + ": no such folder");
        if (Files.isRegularFile(dir.resolve(Gpt2Config.FILE_NAME)) && Files.isRegularFile(dir.resolve(Gpt2Checkpoint.WEIGHTS_FILE))) {
            return Gpt2Checkpoint.load(dir);
        }
        Path checkpoint = dir.resolve(Gpt2Trainer.CHECKPOINT_FILE);
        if (Files.isRegularFile(checkpoint)) return loadTrainingCheckpoint(checkpoint);
        throw new FileNotFoundException(dir + ": not a model folder: expected " + Gpt2Config.FILE_NAME + " and "
                + Gpt2Checkpoint.WEIGHTS_FILE + " (Hugging Face) or " + Gpt2Trainer.CHECKPOINT_FILE + " (gpt2 train)");
    }

    /** The model part of a training checkpoint; its metadata carries the model's config. */
    @SuppressWarnings("unchecked")
    static Gpt2Model loadTrainingCheckpoint(Path file) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file, Backends.defaultBackend());
        Map<String, String> metadata = contents.metadata();
        String configJson = metadata.get(Gpt2Trainer.MODEL_CONFIG_KEY);
        if (configJson == null) {
            throw new IOException(file + ": training checkpoint without the model config (metadata '"
                    + Gpt2Trainer.MODEL_CONFIG_KEY + "'); was it written by gpt2 train?");
        }
        Object parsed;
        try {
            parsed = Json.parse(configJson);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": metadata '" + Gpt2Trainer.MODEL_CONFIG_KEY + "' is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) throw new IOException(file + ": metadata '" + Gpt2Trainer.MODEL_CONFIG_KEY + "' is not a JSON object");
        Gpt2Config config = Gpt2Config.fromJson((Map<String, Object>) parsed, file + " metadata");
        Gpt2Model model = Gpt2Model.forLoading(config, DType.FLOAT32);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        contents.tensors().forEach((name, t) -> {
            if (!name.startsWith(TrainingCheckpoint.OPTIMIZER_PREFIX)) weights.put(name, t);
        });
        try {
            model.loadStateDict(weights, true);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
        return model;
    }
}
