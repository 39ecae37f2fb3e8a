package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2CheckpointTest {
    static final Gpt2Config CONFIG = new Gpt2Config(2, 2, 16, 8, 23);
    static final Tensor IDS = Tensor.ofInts(new int[]{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8}, 2, 6);

    @Test
    void saveThenLoadGivesIdenticalLogits(@TempDir Path dir) throws Exception {
        Gpt2Model model = new Gpt2Model(CONFIG, new Rng(21));
        Gpt2Checkpoint.save(model, dir);
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"model_type\": \"gpt2\""));
        Map<String, Tensor> file = SafeTensors.load(dir.resolve("model.safetensors"));
        assertEquals(new ArrayList<>(Gpt2Checkpoint.parameterShapes(CONFIG).keySet()), new ArrayList<>(file.keySet()));

        Gpt2Model loaded = Gpt2Checkpoint.load(dir);
        assertEquals(CONFIG, loaded.config());
        assertArrayEquals(model.logits(IDS).toFloatArray(), loaded.logits(IDS).toFloatArray());

        Gpt2Model other = new Gpt2Model(CONFIG, new Rng(22));
        assertFalse(java.util.Arrays.equals(model.logits(IDS).toFloatArray(), other.logits(IDS).toFloatArray()));
        Gpt2Checkpoint.loadInto(other, dir);
        assertArrayEquals(model.logits(IDS).toFloatArray(), other.logits(IDS).toFloatArray());
    }

    @Test
    void acceptsTransformerPrefixMaskBuffersAndTiedLmHead(@TempDir Path dir) throws Exception {
        Gpt2Model model = new Gpt2Model(CONFIG, new Rng(23));
        Gpt2Checkpoint.save(model, dir);
        Map<String, Tensor> hf = new LinkedHashMap<>();
        for (var e : model.stateDict().entrySet()) hf.put("transformer." + e.getKey(), e.getValue());
        hf.put("transformer.h.0.attn.bias", Tensor.ones(io.github.grad4j.backend.DType.FLOAT32, 1, 1, 8, 8));
        hf.put("transformer.h.1.attn.masked_bias", Tensor.scalar(-1e4, io.github.grad4j.backend.DType.FLOAT32));
        hf.put("lm_head.weight", model.stateDict().get("wte.weight"));
        SafeTensors.save(dir.resolve("model.safetensors"), hf);
        assertArrayEquals(model.logits(IDS).toFloatArray(), Gpt2Checkpoint.load(dir).logits(IDS).toFloatArray());

        hf.put("lm_head.weight", Tensor.randn(new Rng(1), 0.02, io.github.grad4j.backend.DType.FLOAT32, 23, 16));
        SafeTensors.save(dir.resolve("model.safetensors"), hf);
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("lm_head.weight") && e.getMessage().contains("tied"), e.getMessage());
    }

    @Test
    void shapeDisagreeingWithConfigNamesTensorAndBothShapes(@TempDir Path dir) throws Exception {
        Gpt2Model model = new Gpt2Model(CONFIG, new Rng(24));
        Gpt2Checkpoint.save(model, dir);
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        state.put("h.1.mlp.c_fc.weight", Tensor.zeros(io.github.grad4j.backend.DType.FLOAT32, 64, 16)); // transposed
        SafeTensors.save(dir.resolve("model.safetensors"), state);
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Checkpoint.load(dir));
        String m = e.getMessage();
        assertTrue(m.contains("model.safetensors") && m.contains("'h.1.mlp.c_fc.weight'") && m.contains("[64, 16]")
                && m.contains("[16, 64]"), m);

        // loading into an existing model changes nothing when the file is bad
        Gpt2Model target = new Gpt2Model(CONFIG, new Rng(25));
        float[] before = target.logits(IDS).toFloatArray();
        assertThrows(IllegalArgumentException.class, () -> Gpt2Checkpoint.loadInto(target, dir));
        assertArrayEquals(before, target.logits(IDS).toFloatArray());
    }

    @Test
    void checkpointOfAnotherShapeThanTheModelNamesTensorAndBothShapes(@TempDir Path dir) throws Exception {
        Gpt2Checkpoint.save(new Gpt2Model(new Gpt2Config(2, 2, 16, 8, 29), new Rng(26)), dir);
        Gpt2Model model = new Gpt2Model(CONFIG, new Rng(27));
        float[] before = model.logits(IDS).toFloatArray();
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Checkpoint.loadInto(model, dir));
        String m = e.getMessage();
        assertTrue(m.contains("'wte.weight'") && m.contains("[29, 16] in the checkpoint") && m.contains("[23, 16] in the model"), m);
        assertArrayEquals(before, model.logits(IDS).toFloatArray());
    }

    @Test
    void missingTensorNamesFileAndTensor(@TempDir Path dir) throws Exception {
        Gpt2Model model = new Gpt2Model(CONFIG, new Rng(28));
        Gpt2Checkpoint.save(model, dir);
        Map<String, Tensor> state = new LinkedHashMap<>(model.stateDict());
        state.remove("h.0.ln_2.bias");
        state.put("h.0.extra.weight", Tensor.zeros(io.github.grad4j.backend.DType.FLOAT32, 2));
        SafeTensors.save(dir.resolve("model.safetensors"), state);
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Checkpoint.load(dir));
        String m = e.getMessage();
        assertTrue(m.contains(dir.resolve("model.safetensors").toString()) && m.contains("missing tensor 'h.0.ln_2.bias'")
                && m.contains("unexpected tensor 'h.0.extra.weight'"), m);
    }

    @Test
    void corruptOrAbsentFilesNameTheFile(@TempDir Path dir) throws Exception {
        Gpt2Checkpoint.save(new Gpt2Model(CONFIG, new Rng(29)), dir);
        Path weights = dir.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 10)); // truncated
        IOException e = assertThrows(IOException.class, () -> Gpt2Checkpoint.load(dir));
        assertTrue(e.getMessage().contains(weights.toString()) && e.getMessage().contains("truncated"), e.getMessage());

        Files.delete(weights);
        e = assertThrows(FileNotFoundException.class, () -> Gpt2Checkpoint.load(dir));
        assertTrue(e.getMessage().contains(weights.toString()), e.getMessage());
        Files.delete(dir.resolve("config.json"));
        e = assertThrows(FileNotFoundException.class, () -> Gpt2Checkpoint.load(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
