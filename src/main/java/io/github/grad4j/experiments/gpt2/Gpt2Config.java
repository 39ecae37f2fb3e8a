package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.io.AtomicFiles;
import io.github.grad4j.io.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The shape of a GPT-2 model, with Hugging Face's {@code config.json} key names.
 *
 * <p>{@code dropout} is one rate used at the embeddings, on the attention probabilities and on both
 * residual branches (HF's {@code embd_pdrop}, {@code attn_pdrop}, {@code resid_pdrop}); it acts only
 * in training mode. Code-built configs default to 0; a config.json's {@code resid_pdrop} is read
 * (GPT-2's own files say 0.1), and all three keys are written with this one value.
 *
 * @param nLayer           number of transformer blocks ({@code n_layer})
 * @param nHead            attention heads per block ({@code n_head}); must divide {@code nEmbd}
 * @param nEmbd            width of the residual stream ({@code n_embd})
 * @param nPositions       context length: most tokens one forward pass can see ({@code n_positions})
 * @param vocabSize        number of token ids ({@code vocab_size})
 * @param layerNormEpsilon epsilon of every LayerNorm ({@code layer_norm_epsilon})
 * @param dropout          dropout rate in [0, 1)
 */
public record Gpt2Config(int nLayer, int nHead, int nEmbd, int nPositions, int vocabSize,
                         double layerNormEpsilon, double dropout) {

    /** The file name Hugging Face uses. */
    public static final String FILE_NAME = "config.json";

    /** Validates every field; errors name the field and its value. */
    public Gpt2Config {
        requirePositive("n_layer", nLayer);
        requirePositive("n_head", nHead);
        requirePositive("n_embd", nEmbd);
        requirePositive("n_positions", nPositions);
        requirePositive("vocab_size", vocabSize);
        if (nEmbd % nHead != 0) {
            throw new IllegalArgumentException("GPT-2 config: n_embd " + nEmbd + " is not divisible by n_head " + nHead
                    + " (each head gets n_embd / n_head channels)");
        }
        if (!(layerNormEpsilon > 0) || !Double.isFinite(layerNormEpsilon)) {
            throw new IllegalArgumentException("GPT-2 config: layer_norm_epsilon must be a positive number, got "
                    + layerNormEpsilon);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("GPT-2 config: dropout must be in [0, 1), got " + dropout);
        }
    }

    /** A config without dropout and GPT-2's LayerNorm epsilon 1e-5. */
    public Gpt2Config(int nLayer, int nHead, int nEmbd, int nPositions, int vocabSize) {
        this(nLayer, nHead, nEmbd, nPositions, vocabSize, 1e-5, 0.0);
    }

    /** GPT-2 small (124M parameters), as openai-community/gpt2, without dropout. */
    public static Gpt2Config gpt2Small() {
        return new Gpt2Config(12, 12, 768, 1024, 50257);
    }

    /** This config with another dropout rate. */
    public Gpt2Config withDropout(double rate) {
        return new Gpt2Config(nLayer, nHead, nEmbd, nPositions, vocabSize, layerNormEpsilon, rate);
    }

    /** Channels per attention head. */
    public int headSize() {
        return nEmbd / nHead;
    }

    /** Whether two configs describe the same parameter shapes and computation (dropout aside). */
    public boolean sameArchitecture(Gpt2Config o) {
        return nLayer == o.nLayer && nHead == o.nHead && nEmbd == o.nEmbd && nPositions == o.nPositions
                && vocabSize == o.vocabSize && layerNormEpsilon == o.layerNormEpsilon;
    }

    private static void requirePositive(String key, int value) {
        if (value <= 0) throw new IllegalArgumentException("GPT-2 config: " + key + " must be positive, got " + value);
    }

    // ---------------------------------------------------------------- config.json

    /** The config as Hugging Face writes it for GPT2LMHeadModel. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", "gpt2");
        m.put("architectures", List.of("GPT2LMHeadModel"));
        m.put("n_layer", (long) nLayer);
        m.put("n_head", (long) nHead);
        m.put("n_embd", (long) nEmbd);
        m.put("n_positions", (long) nPositions);
        m.put("n_ctx", (long) nPositions); // older readers look for n_ctx
        m.put("vocab_size", (long) vocabSize);
        m.put("layer_norm_epsilon", layerNormEpsilon);
        m.put("activation_function", "gelu_new");
        m.put("n_inner", null);
        m.put("embd_pdrop", dropout);
        m.put("attn_pdrop", dropout);
        m.put("resid_pdrop", dropout);
        m.put("tie_word_embeddings", true);
        return m;
    }

    /**
     * Reads a Hugging Face config. Keys that would change the computation in ways this model does
     * not implement (another activation, a custom MLP width, untied embeddings, another model type)
     * are errors rather than silently ignored; {@code source} names the file in messages.
     */
    public static Gpt2Config fromJson(Map<String, Object> json, String source) {
        List<String> problems = new ArrayList<>();
        Object type = json.get("model_type");
        if (type != null && !"gpt2".equals(type)) problems.add("model_type is '" + type + "', not 'gpt2'");
        Object act = json.get("activation_function");
        if (act != null && !act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) {
            problems.add("activation_function '" + act + "' is not GPT-2's tanh GELU (gelu_new)");
        }
        Object tie = json.get("tie_word_embeddings");
        if (Boolean.FALSE.equals(tie)) problems.add("tie_word_embeddings is false; only tied output embeddings are supported");
        for (String flag : new String[]{"scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"}) {
            if (Boolean.TRUE.equals(json.get(flag))) problems.add(flag + " is true; not supported");
        }
        if (Boolean.FALSE.equals(json.get("scale_attn_weights"))) problems.add("scale_attn_weights is false; not supported");
        int nLayer = intKey(json, "n_layer", source);
        int nHead = intKey(json, "n_head", source);
        int nEmbd = intKey(json, "n_embd", source);
        int nPositions = json.containsKey("n_positions") ? intKey(json, "n_positions", source) : intKey(json, "n_ctx", source);
        int vocab = intKey(json, "vocab_size", source);
        Object inner = json.get("n_inner");
        if (inner != null && numberKey(json, "n_inner", source) != 4.0 * nEmbd) {
            problems.add("n_inner " + inner + " differs from GPT-2's 4 * n_embd = " + 4 * nEmbd);
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException(source + ": unsupported GPT-2 config: " + String.join("; ", problems));
        double eps = json.containsKey("layer_norm_epsilon") ? numberKey(json, "layer_norm_epsilon", source) : 1e-5;
        double dropout = json.get("resid_pdrop") != null ? numberKey(json, "resid_pdrop", source) : 0.0;
        try {
            return new Gpt2Config(nLayer, nHead, nEmbd, nPositions, vocab, eps, dropout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static double numberKey(Map<String, Object> json, String key, String source) {
        Object v = json.get(key);
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException(source + ": GPT-2 config key '" + key + "' must be a number, got "
                    + (v == null ? "nothing" : "'" + v + "'"));
        }
        return ((Number) v).doubleValue();
    }

    private static int intKey(Map<String, Object> json, String key, String source) {
        double d = numberKey(json, key, source);
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(source + ": GPT-2 config key '" + key + "' must be an integer, got " + d);
        }
        return (int) d;
    }

    /** Reads {@code config.json} (the file itself, not its folder). */
    @SuppressWarnings("unchecked")
    public static Gpt2Config read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        if (!(parsed instanceof Map)) throw new IOException(file + ": expected a JSON object");
        return fromJson((Map<String, Object>) parsed, file.toString());
    }

    /** Writes {@code config.json} atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeString(file, Json.writePretty(toJson()));
    }
}
