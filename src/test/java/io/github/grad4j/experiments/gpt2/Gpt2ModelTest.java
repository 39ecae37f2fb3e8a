package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2ModelTest {
    static final Gpt2Config TINY = new Gpt2Config(2, 2, 16, 8, 23);

    static Tensor randomIds(Rng rng, int vocab, int b, int t) {
        int[] ids = new int[b * t];
        for (int i = 0; i < ids.length; i++) ids[i] = rng.nextInt(vocab);
        return Tensor.ofInts(ids, b, t);
    }

    @Test
    void parameterNamesAndShapesAreHuggingFaces() {
        Gpt2Model model = new Gpt2Model(new Gpt2Config(3, 3, 48, 16, 97), new Rng(1));
        Map<String, int[]> expected = Gpt2Checkpoint.parameterShapes(model.config());
        Map<String, Tensor> actual = model.stateDict();
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()));
        for (var e : expected.entrySet()) assertArrayEquals(e.getValue(), actual.get(e.getKey()).shape(), e.getKey());
        assertTrue(actual.containsKey("h.2.attn.c_attn.weight"));
        assertArrayEquals(new int[]{48, 144}, actual.get("h.2.attn.c_attn.weight").shape()); // Conv1D [in, out]
        // GPT-2 small has 124,439,808 parameters (HF's num_parameters() for openai-community/gpt2)
        long small = 0;
        for (int[] s : Gpt2Checkpoint.parameterShapes(Gpt2Config.gpt2Small()).values()) small += Arrays.stream(s).asLongStream().reduce(1, (a, b) -> a * b);
        assertEquals(124_439_808L, small);
    }

    @Test
    void initializationFollowsGpt2() {
        Gpt2Config config = new Gpt2Config(4, 4, 64, 32, 200);
        Gpt2Model model = new Gpt2Model(config, new Rng(7));
        double residual = 0.02 / Math.sqrt(2 * 4);
        for (var e : model.namedParameters().entrySet()) {
            String name = e.getKey();
            double[] v = e.getValue().toDoubleArray();
            double mean = Arrays.stream(v).average().orElseThrow();
            double std = Math.sqrt(Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / v.length);
            if (name.contains("ln_") && name.endsWith(".weight")) {
                assertTrue(Arrays.stream(v).allMatch(x -> x == 1.0), name);
            } else if (name.endsWith(".bias")) {
                assertTrue(Arrays.stream(v).allMatch(x -> x == 0.0), name);
            } else {
                double want = name.endsWith("c_proj.weight") ? residual : 0.02;
                // >= 4096 draws: the sample std is within ~1.1% (1 sigma) of the true one; 6% is over 5 sigma
                assertEquals(want, std, 0.06 * want, name + " std");
                assertEquals(0, mean, 5 * want / Math.sqrt(v.length), name + " mean");
            }
        }
        // same seed, same model; another seed, another model
        assertArrayEquals(model.stateDict().get("h.1.mlp.c_fc.weight").toFloatArray(),
                new Gpt2Model(config, new Rng(7)).stateDict().get("h.1.mlp.c_fc.weight").toFloatArray());
        assertFalse(Arrays.equals(model.stateDict().get("wte.weight").toFloatArray(),
                new Gpt2Model(config, new Rng(8)).stateDict().get("wte.weight").toFloatArray()));
    }

    @Test
    void cachedForwardEqualsFullForward() {
        Gpt2Model model = new Gpt2Model(TINY, new Rng(3));
        Rng rng = new Rng(4);
        Tensor ids = randomIds(rng, TINY.vocabSize(), 2, 8);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            double[] full = model.logits(ids).toDoubleArray();
            KvCache cache = model.newCache(2);
            // chunks of 3, 1, 1, 3 tokens: a chunk after a non-empty cache needs the offset causal mask
            int[][] chunks = {{0, 3}, {3, 4}, {4, 5}, {5, 8}};
            double[][] perChunk = new double[chunks.length][];
            for (int c = 0; c < chunks.length; c++) {
                Tensor part = ids.narrow(1, chunks[c][0], chunks[c][1] - chunks[c][0]).contiguous();
                perChunk[c] = model.logits(part, cache).toDoubleArray();
            }
            assertEquals(8, cache.length());
            int v = TINY.vocabSize();
            double worst = 0;
            for (int b = 0; b < 2; b++) {
                for (int c = 0; c < chunks.length; c++) {
                    int len = chunks[c][1] - chunks[c][0];
                    for (int i = 0; i < len; i++) {
                        for (int k = 0; k < v; k++) {
                            double want = full[(b * 8 + chunks[c][0] + i) * v + k];
                            double got = perChunk[c][(b * len + i) * v + k];
                            worst = Math.max(worst, Math.abs(want - got));
                        }
                    }
                }
            }
            // the same float32 arithmetic per row: masked keys add exact zeros, so agreement is to rounding
            assertTrue(worst < 1e-6, "cached logits differ from the full forward by " + worst);
            var e = assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.ofInts(new int[]{1, 2}, 2, 1), cache));
            assertTrue(e.getMessage().contains("context length"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.ofInts(new int[]{1}, 1, 1), model.newCache(2)));
        }
    }

    @Test
    void badIdsGiveClearErrors() {
        Gpt2Model model = new Gpt2Model(TINY, new Rng(3));
        var e = assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.ofInts(new int[]{1, 23, 2}, 1, 3)));
        assertTrue(e.getMessage().contains("token id 23 at [0, 1]") && e.getMessage().contains("[0, 23)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.ofInts(new int[9], 1, 9)));
        assertTrue(e.getMessage().contains("n_positions = 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.logits(Tensor.of(new float[]{1, 2}, 1, 2)));
        assertTrue(e.getMessage().contains("INT32"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.loss(Tensor.ofInts(new int[4], 1, 4), Tensor.ofInts(new int[3], 1, 3)));
        assertTrue(e.getMessage().contains("[1, 3]") && e.getMessage().contains("[1, 4]"), e.getMessage());
    }

    @Test
    void lossIsMeanCrossEntropyOverNonIgnoredTargets() {
        Gpt2Model model = new Gpt2Model(TINY, new Rng(5));
        Rng rng = new Rng(6);
        Tensor ids = randomIds(rng, TINY.vocabSize(), 2, 5);
        int[] t = randomIds(rng, TINY.vocabSize(), 2, 5).toIntArray();
        t[0] = Gpt2Model.IGNORE_INDEX;
        t[7] = Gpt2Model.IGNORE_INDEX;
        double loss = model.loss(ids, Tensor.ofInts(t, 2, 5)).item();
        // recompute on the host from the logits: -log softmax at the target, averaged over the 8 kept positions
        double[] logits = model.logits(ids).toDoubleArray();
        int v = TINY.vocabSize();
        double sum = 0;
        int kept = 0;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == Gpt2Model.IGNORE_INDEX) continue;
            double max = Double.NEGATIVE_INFINITY, z = 0;
            for (int k = 0; k < v; k++) max = Math.max(max, logits[i * v + k]);
            for (int k = 0; k < v; k++) z += Math.exp(logits[i * v + k] - max);
            sum += -(logits[i * v + t[i]] - max - Math.log(z));
            kept++;
        }
        assertEquals(8, kept);
        assertEquals(sum / kept, loss, 1e-5);
    }

    @Test
    void gradcheckOfTinyGpt2InFloat64() {
        Gpt2Config config = new Gpt2Config(1, 2, 8, 4, 11);
        Rng rng = new Rng(11);
        Gpt2Model model = new Gpt2Model(config, rng, DType.FLOAT64);
        Tensor ids = randomIds(rng, 11, 2, 4);
        // values far from GPT-2's small init, so attention is far from uniform and every path carries signal
        String[] names = {"h.0.attn.c_attn.weight", "h.0.ln_1.weight", "h.0.mlp.c_proj.bias", "wte.weight", "wpe.weight"};
        Tensor[] inputs = new Tensor[names.length];
        for (int i = 0; i < names.length; i++) {
            int[] shape = model.stateDict().get(names[i]).shape();
            inputs[i] = Tensor.randn(rng, 0.5, DType.FLOAT64, shape);
        }
        var result = GradCheck.float64().gradcheck(x -> {
            Map<String, Tensor> replace = new java.util.LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) replace.put(names[i], x[i]);
            return model.functionalCall(replace, () -> model.logits(ids));
        }, inputs, rng);
        assertTrue(result.passed(), result.toString());
    }

    @Test
    void dropoutActsOnlyInTrainingAndIsSeeded() {
        Gpt2Config config = TINY.withDropout(0.5);
        Tensor ids = randomIds(new Rng(1), TINY.vocabSize(), 1, 6);
        Gpt2Model plain = new Gpt2Model(TINY, new Rng(2));
        Gpt2Model withDropout = new Gpt2Model(config, new Rng(2));
        withDropout.eval();
        assertArrayEquals(plain.logits(ids).toFloatArray(), withDropout.logits(ids).toFloatArray());
        withDropout.train(true);
        float[] a = withDropout.logits(ids).toFloatArray();
        assertFalse(Arrays.equals(a, plain.logits(ids).toFloatArray()));
        withDropout.setDropoutRng(new Rng(99));
        float[] b = withDropout.logits(ids).toFloatArray();
        withDropout.setDropoutRng(new Rng(99));
        assertArrayEquals(b, withDropout.logits(ids).toFloatArray());
    }
}
