package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * GPT-2 checkpoints in Hugging Face's directory layout: {@code config.json} and
 * {@code model.safetensors} with HF's tensor names and Conv1D weights stored [in, out]. The files
 * of openai-community/gpt2 load unchanged.
 *
 * <p>Loading tolerates what HF exports contain besides the parameters: a {@code transformer.}
 * prefix on every name, the causal-mask buffers {@code h.N.attn.bias} and
 * {@code h.N.attn.masked_bias} (skipped), and an {@code lm_head.weight} that must equal
 * {@code wte.weight} (the embeddings are tied). Everything is checked before any parameter is
 * written, so a bad checkpoint never half-loads; errors name the file, the tensor and both shapes.
 */
public final class Gpt2Checkpoint {
    /** The weights file inside a checkpoint directory. */
    public static final String WEIGHTS_FILE = "model.safetensors";

    private static final String PREFIX = "transformer.";
    private static final Pattern MASK_BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");
    private static final String LM_HEAD = "lm_head.weight";

    private Gpt2Checkpoint() {
    }

    /** Loads a checkpoint directory into a new FLOAT32 model on the default backend. */
    public static Gpt2Model load(Path dir) throws IOException {
        return load(dir, DType.FLOAT32);
    }

    /** Loads a checkpoint directory into a new model of the given dtype (values converted). */
    public static Gpt2Model load(Path dir, DType dtype) throws IOException {
        Gpt2Config config = Gpt2Config.read(requireFile(dir, Gpt2Config.FILE_NAME));
        Path weights = requireFile(dir, WEIGHTS_FILE);
        Map<String, Tensor> tensors = readParameters(weights, config);
        Gpt2Model model = Gpt2Model.forLoading(config, dtype);
        model.loadStateDict(tensors, true);
        return model;
    }

    /**
     * Loads a checkpoint into an existing model. The checkpoint must agree with its own config.json
     * and with the model; on any disagreement nothing in the model changes.
     */
    public static void loadInto(Gpt2Model model, Path dir) throws IOException {
        Path configFile = requireFile(dir, Gpt2Config.FILE_NAME);
        Gpt2Config config = Gpt2Config.read(configFile);
        Path weights = requireFile(dir, WEIGHTS_FILE);
        Map<String, Tensor> tensors = readParameters(weights, config);
        Gpt2Config mine = model.config();
        if (!config.sameArchitecture(mine)) {
            List<String> problems = new ArrayList<>();
            Map<String, int[]> own = parameterShapes(mine);
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                int[] want = own.get(e.getKey());
                if (want == null) problems.add("tensor '" + e.getKey() + "' does not exist in the model");
                else if (!Arrays.equals(want, e.getValue().shape())) {
                    problems.add("tensor '" + e.getKey() + "' has shape " + Shape.str(e.getValue().shape())
                            + " in the checkpoint but " + Shape.str(want) + " in the model");
                }
            }
            for (String name : own.keySet()) {
                if (!tensors.containsKey(name)) problems.add("the model's tensor '" + name + "' is not in the checkpoint");
            }
            problems.add("config " + describe(config) + " vs model " + describe(mine));
            throw new IllegalArgumentException(dir + ": checkpoint does not fit the model: " + String.join("; ", problems));
        }
        model.loadStateDict(tensors, true);
    }

    /** Writes config.json and model.safetensors (each atomically), creating the directory if needed. */
    public static void save(Gpt2Model model, Path dir) throws IOException {
        Files.createDirectories(dir);
        // HF's loaders read this metadata key to know the tensors came from PyTorch-style state dicts
        SafeTensors.save(dir.resolve(WEIGHTS_FILE), model.stateDict(), Map.of("format", "pt"));
        model.config().write(dir.resolve(Gpt2Config.FILE_NAME));
    }

    /**
     * The parameter names and shapes a config implies, in HF's order. The model registers exactly
     * these (a test holds the two together); checkpoints are checked against it before any model is built.
     */
    public static Map<String, int[]> parameterShapes(Gpt2Config config) {
        int c = config.nEmbd();
        Map<String, int[]> m = new LinkedHashMap<>();
        m.put("wte.weight", new int[]{config.vocabSize(), c});
        m.put("wpe.weight", new int[]{config.nPositions(), c});
        for (int i = 0; i < config.nLayer(); i++) {
            String p = "h." + i + ".";
            m.put(p + "ln_1.weight", new int[]{c});
            m.put(p + "ln_1.bias", new int[]{c});
            m.put(p + "attn.c_attn.weight", new int[]{c, 3 * c});
            m.put(p + "attn.c_attn.bias", new int[]{3 * c});
            m.put(p + "attn.c_proj.weight", new int[]{c, c});
            m.put(p + "attn.c_proj.bias", new int[]{c});
            m.put(p + "ln_2.weight", new int[]{c});
            m.put(p + "ln_2.bias", new int[]{c});
            m.put(p + "mlp.c_fc.weight", new int[]{c, 4 * c});
            m.put(p + "mlp.c_fc.bias", new int[]{4 * c});
            m.put(p + "mlp.c_proj.weight", new int[]{4 * c, c});
            m.put(p + "mlp.c_proj.bias", new int[]{c});
        }
        m.put("ln_f.weight", new int[]{c});
        m.put("ln_f.bias", new int[]{c});
        return m;
    }

    /**
     * Reads the weights file and returns exactly the model's parameters by unprefixed HF name,
     * after checking names, dtypes and shapes against {@code config}.
     */
    private static Map<String, Tensor> readParameters(Path file, Gpt2Config config) throws IOException {
        Map<String, Tensor> raw = SafeTensors.read(file, Backends.defaultBackend()).tensors();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Tensor lmHead = null;
        for (Map.Entry<String, Tensor> e : raw.entrySet()) {
            String name = e.getKey().startsWith(PREFIX) ? e.getKey().substring(PREFIX.length()) : e.getKey();
            if (MASK_BUFFER.matcher(name).matches()) continue;
            if (name.equals(LM_HEAD)) {
                lmHead = e.getValue();
                continue;
            }
            if (tensors.put(name, e.getValue()) != null) {
                throw new IOException(file + ": tensor '" + name + "' appears both with and without the '" + PREFIX + "' prefix");
            }
        }
        Map<String, int[]> expected = parameterShapes(config);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            Tensor t = tensors.get(e.getKey());
            if (t == null) {
                problems.add("missing tensor '" + e.getKey() + "' (expected shape " + Shape.str(e.getValue()) + ")");
            } else if (!t.dtype().isFloatingPoint()) {
                problems.add("tensor '" + e.getKey() + "' has integer dtype " + t.dtype());
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add("tensor '" + e.getKey() + "' has shape " + Shape.str(t.shape()) + " but config.json ("
                        + describe(config) + ") requires " + Shape.str(e.getValue()));
            }
        }
        for (String name : tensors.keySet()) {
            if (!expected.containsKey(name)) problems.add("unexpected tensor '" + name + "' (not a GPT-2 parameter)");
        }
        if (lmHead != null && problems.isEmpty()) {
            Tensor wte = tensors.get("wte.weight");
            if (!Arrays.equals(lmHead.shape(), wte.shape()) || !Arrays.equals(lmHead.toDoubleArray(), wte.toDoubleArray())) {
                problems.add("'" + LM_HEAD + "' " + Shape.str(lmHead.shape()) + " differs from 'wte.weight' "
                        + Shape.str(wte.shape()) + "; GPT-2's output embedding is tied to wte and untied heads are not supported");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file + ": not a checkpoint of this GPT-2: " + String.join("; ", problems));
        }
        return tensors;
    }

    private static Path requireFile(Path dir, String name) throws FileNotFoundException {
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new FileNotFoundException(file + ": no such file (a GPT-2 checkpoint directory holds "
                    + Gpt2Config.FILE_NAME + " and " + WEIGHTS_FILE + ")");
        }
        return file;
    }

    private static String describe(Gpt2Config c) {
        return "n_layer " + c.nLayer() + ", n_head " + c.nHead() + ", n_embd " + c.nEmbd() + ", n_positions "
                + c.nPositions() + ", vocab_size " + c.vocabSize() + ", layer_norm_epsilon " + c.layerNormEpsilon();
    }
}
