package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.Map;

import static io.github.grad4j.experiments.quant.gpt2.QuantizedGpt2Test.*;
import static org.junit.jupiter.api.Assertions.*;

class QuadapterTest {
    /** Alphas spread over about [0.3, 3] so the folding changes the LayerNorms and weights a lot. */
    static void randomizeAlphas(QuantizedGpt2 q, long seed) {
        Rng rng = new Rng(seed);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor a : q.adapterParameters().values()) {
                a.assign(Tensor.randn(rng, 0.6, DType.FLOAT64, a.shape()).exp());
            }
        }
    }

    @Test
    void adaptersSitAfterTheLayerNormsOnly() {
        QuantizedGpt2 q = calibrated(tinyModel(1), new BitSetting(8, 8), Parameterization.MIN_MAX);
        Quadapter.attach(q);
        assertEquals(List.of("h.0.attn.c_attn", "h.0.mlp.c_fc", "h.1.attn.c_attn", "h.1.mlp.c_fc"), Quadapter.adapterSites(q));
        assertTrue(q.adapterParameters().containsKey("sites.h.1.mlp.c_fc.alpha"));
        assertArrayEquals(new int[]{TINY.nEmbd()}, q.adapterParameters().get("sites.h.0.attn.c_attn.alpha").shape());
        assertEquals(4, q.adapterParameters().size());
    }

    @Test
    void alphaOneIsTheIdentity() {
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        QuantizedGpt2 plain = calibrated(tinyModel(2), new BitSetting(4, 4), Parameterization.MIN_MAX);
        double[] expected = plain.logits(ids).toDoubleArray();
        QuantizedGpt2 adapted = calibrated(tinyModel(2), new BitSetting(4, 4), Parameterization.MIN_MAX);
        Quadapter.attach(adapted);
        // x * 1 and W / 1 are exact in floating point
        assertArrayEquals(expected, adapted.logits(ids).toDoubleArray(), 0.0);
    }

    @Test
    void withoutQuantizationAnyAlphaCancels() {
        Gpt2Model m = tinyModel(3);
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        double[] fp = m.logits(ids).toDoubleArray();
        QuantizedGpt2 q = calibrated(m, new BitSetting(4, 4), Parameterization.MIN_MAX);
        Quadapter.attach(q);
        randomizeAlphas(q, 5);
        assertTrue(maxAbsDiff(fp, q.logits(ids).toDoubleArray()) > 1e-3, "alphas change the quantized model");
        q.setQuantizationEnabled(false);
        assertArrayEquals(fp, q.logits(ids).toDoubleArray(), 1e-12);
    }

    @ParameterizedTest
    @EnumSource(Parameterization.class)
    void foldedModelHasNoAdaptersAndTheSameOutputs(Parameterization p) {
        QuantizedGpt2 q = calibrated(tinyModel(4), new BitSetting(4, 8), p);
        Quadapter.attach(q);
        randomizeAlphas(q, 6);
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        double[] adapted = q.logits(ids).toDoubleArray();
        Map<String, double[]> before = snapshot(q.model().namedParameters());
        QuantizedGpt2 folded = Quadapter.fold(q);
        assertTrue(folded.adapterParameters().isEmpty());
        assertTrue(folded.sites().values().stream().noneMatch(QuantizedGpt2.Site::hasAdapter));
        // float64: alpha * (g n + b) and (alpha g) n + alpha b differ by ~1e-16, far from any rounding boundary
        assertArrayEquals(adapted, folded.logits(ids).toDoubleArray(), 1e-9);
        // the LayerNorm gain really carries alpha, and the original model is untouched
        double[] alpha = q.adapterParameters().get("sites.h.0.attn.c_attn.alpha").toDoubleArray();
        double[] gain = before.get("h.0.ln_1.weight"), foldedGain = folded.model().namedParameters().get("h.0.ln_1.weight").toDoubleArray();
        for (int i = 0; i < alpha.length; i++) assertEquals(gain[i] * alpha[i], foldedGain[i], 1e-12);
        for (var e : q.model().namedParameters().entrySet()) assertArrayEquals(before.get(e.getKey()), e.getValue().toDoubleArray(), 0.0);
        // and it differs from quantizing the unadapted model, so the test is not vacuous
        QuantizedGpt2 unadapted = calibrated(tinyModel(4), new BitSetting(4, 8), p);
        assertTrue(maxAbsDiff(adapted, unadapted.logits(ids).toDoubleArray()) > 1e-3);
    }

    @Test
    void blockCalibrationTrainsOnlyAlphasAndRanges() {
        QuantizedGpt2 q = calibrated(tinyModel(5), new BitSetting(4, 4), Parameterization.MIN_MAX);
        Quadapter.attach(q);
        Map<String, double[]> weights = snapshot(q.modelParameters()), alphas = snapshot(q.adapterParameters());
        List<QatTraining.Log> logs = QatTraining.calibrateBlocks(q, randomText(7, 500),
                new QatTraining.Settings(3, 2, 8, 1e-2, 0, 0), new Rng(3));
        assertEquals(2, logs.size());
        for (QatTraining.Log l : logs) assertTrue(l.losses()[0] > 0 && !l.diverged());
        for (var e : q.modelParameters().entrySet()) assertArrayEquals(weights.get(e.getKey()), e.getValue().toDoubleArray(), 0.0);
        for (var e : q.adapterParameters().entrySet()) {
            assertTrue(maxAbsDiff(alphas.get(e.getKey()), e.getValue().toDoubleArray()) > 0, e.getKey() + " did not move");
        }
        // phase 2 (end to end, adapters + ranges) leaves the weights alone too
        QatTraining.train(q, QuantMode.RANGES, true, randomText(8, 500), new QatTraining.Settings(2, 2, 8, 1e-2, 0, 0), new Rng(4));
        for (var e : q.modelParameters().entrySet()) assertArrayEquals(weights.get(e.getKey()), e.getValue().toDoubleArray(), 0.0);
    }

    @Test
    void adaptersIgnoreTheLmHeadAndFoldingKeepsItsQuantizers() {
        QuantizedGpt2 q = calibratedWithHead(tinyModel(6), new BitSetting(4, 4), Parameterization.MIN_MAX);
        Quadapter.attach(q);
        assertEquals(List.of("h.0.attn.c_attn", "h.0.mlp.c_fc", "h.1.attn.c_attn", "h.1.mlp.c_fc"), Quadapter.adapterSites(q));
        assertFalse(q.site("lm_head").hasAdapter());
        assertEquals(4, q.adapterParameters().size());
        randomizeAlphas(q, 7);
        // block calibration trains only block parameters: the head's ranges stay where calibration put them
        Map<String, double[]> head = new java.util.LinkedHashMap<>();
        q.rangeParameters().forEach((k, v) -> { if (k.startsWith("sites.lm_head.")) head.put(k, v.toDoubleArray()); });
        assertEquals(4, head.size());
        QatTraining.calibrateBlocks(q, randomText(7, 500), new QatTraining.Settings(2, 2, 8, 1e-2, 0, 0), new Rng(3));
        head.forEach((k, v) -> assertArrayEquals(v, q.rangeParameters().get(k).toDoubleArray(), 0.0, k));
        // the folded model has the lm head site too, with copies of its quantizers, and the same outputs
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        QuantizedGpt2 folded = Quadapter.fold(q);
        assertTrue(folded.sites().containsKey("lm_head"));
        assertArrayEquals(q.site("lm_head").weightQuantizer().scale().toDoubleArray(),
                folded.site("lm_head").weightQuantizer().scale().toDoubleArray(), 0.0);
        assertArrayEquals(q.logits(ids).toDoubleArray(), folded.logits(ids).toDoubleArray(), 1e-9);
    }
}
