package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2ConfigTest {
    /** openai-community/gpt2's config.json as published on the Hugging Face hub (task_specific_params omitted). */
    static final String HF_GPT2_CONFIG = """
            {
              "activation_function": "gelu_new",
              "architectures": ["GPT2LMHeadModel"],
              "attn_pdrop": 0.1,
              "bos_token_id": 50256,
              "embd_pdrop": 0.1,
              "eos_token_id": 50256,
              "initializer_range": 0.02,
              "layer_norm_epsilon": 1e-05,
              "model_type": "gpt2",
              "n_ctx": 1024,
              "n_embd": 768,
              "n_head": 12,
              "n_layer": 12,
              "n_positions": 1024,
              "resid_pdrop": 0.1,
              "summary_activation": null,
              "summary_first_dropout": 0.1,
              "summary_proj_to_labels": true,
              "summary_type": "cls_index",
              "summary_use_proj": true,
              "vocab_size": 50257
            }
            """;

    @Test
    void readsTheRealGpt2Config(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, HF_GPT2_CONFIG);
        Gpt2Config c = Gpt2Config.read(file);
        assertEquals(new Gpt2Config(12, 12, 768, 1024, 50257, 1e-5, 0.1), c);
        assertEquals(64, c.headSize());
        assertTrue(c.sameArchitecture(Gpt2Config.gpt2Small()));
    }

    @Test
    void writeKeepsHfKeysAndRoundTrips(@TempDir Path dir) throws Exception {
        Gpt2Config c = new Gpt2Config(3, 3, 48, 16, 97, 1e-6, 0.25);
        Path file = dir.resolve("config.json");
        c.write(file);
        @SuppressWarnings("unchecked")
        Map<String, Object> json = (Map<String, Object>) Json.parse(Files.readString(file));
        assertEquals("gpt2", json.get("model_type"));
        assertEquals(List.of("GPT2LMHeadModel"), json.get("architectures"));
        assertEquals(48L, json.get("n_embd"));
        assertEquals(97L, json.get("vocab_size"));
        assertEquals(16L, json.get("n_positions"));
        assertEquals("gelu_new", json.get("activation_function"));
        assertEquals(c, Gpt2Config.read(file));
    }

    @Test
    void rejectsInvalidShapes() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(2, 3, 50, 16, 97));
        assertTrue(e.getMessage().contains("n_embd 50") && e.getMessage().contains("n_head 3"), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(0, 1, 8, 4, 11))
                .getMessage().contains("n_layer"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(1, 1, 8, 0, 11))
                .getMessage().contains("n_positions"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(1, 1, 8, 4, -5))
                .getMessage().contains("vocab_size"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(1, 1, 8, 4, 11, 0, 0))
                .getMessage().contains("layer_norm_epsilon"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Gpt2Config(1, 1, 8, 4, 11).withDropout(1.0))
                .getMessage().contains("dropout"));
    }

    @Test
    void rejectsConfigsThisModelDoesNotImplement(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, HF_GPT2_CONFIG.replace("\"gelu_new\"", "\"relu\""));
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Config.read(file));
        assertTrue(e.getMessage().contains("relu") && e.getMessage().contains(file.toString()), e.getMessage());

        Files.writeString(file, HF_GPT2_CONFIG.replace("\"n_ctx\": 1024,", "\"n_inner\": 1000,"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Gpt2Config.read(file)).getMessage().contains("n_inner"));

        Files.writeString(file, HF_GPT2_CONFIG.replace("\"n_head\": 12,", ""));
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Config.read(file));
        assertTrue(e.getMessage().contains("'n_head'") && e.getMessage().contains(file.toString()), e.getMessage());

        Files.writeString(file, HF_GPT2_CONFIG.replace("\"n_head\": 12", "\"n_head\": 7"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Gpt2Config.read(file))
                .getMessage().contains("not divisible"));

        Files.writeString(file, "{\"n_layer\": ");
        var io = assertThrows(java.io.IOException.class, () -> Gpt2Config.read(file));
        assertTrue(io.getMessage().contains(file.toString()), io.getMessage());
    }
}
