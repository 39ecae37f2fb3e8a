package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.gpt2.Gpt2Block;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.KvCache;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.experiments.quant.Quantizer;
import io.github.grad4j.nn.LayerNorm;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class QuantizedGpt2Test {
    static final Gpt2Config TINY = new Gpt2Config(2, 2, 16, 8, 29);

    static Gpt2Model tinyModel(long seed) {
        Gpt2Model m = new Gpt2Model(TINY, new Rng(seed), DType.FLOAT64);
        // GPT-2's init leaves biases and LayerNorms trivial; perturb them so folding is really exercised
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            Rng rng = new Rng(seed + 100);
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                Tensor p = e.getValue();
                double std = e.getKey().contains("ln_") ? 0.3 : e.getKey().endsWith("bias") ? 0.05 : 0;
                if (std > 0) p.assign(p.add(Tensor.randn(rng, std, DType.FLOAT64, p.shape())));
            }
        }
        m.eval();
        return m;
    }

    static TokenDataset randomText(long seed, int n) {
        Rng rng = new Rng(seed);
        int[] ids = new int[n];
        // a learnable pattern (mostly +1 steps) so training has something to fit
        for (int i = 0; i < n; i++) ids[i] = i == 0 || rng.nextDouble() < 0.2 ? rng.nextInt(TINY.vocabSize()) : (ids[i - 1] + 1) % TINY.vocabSize();
        return new TokenDataset(ids, "random");
    }

    static List<Tensor> batches(TokenDataset data, int count) {
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < count; i++) out.add(data.window(i, count, 3, 8).inputs());
        return out;
    }

    static QuantizedGpt2 calibrated(Gpt2Model m, BitSetting bits, Parameterization p) {
        QuantizedGpt2 q = new QuantizedGpt2(m, QuantSpec.of(bits, p));
        q.calibrate(batches(randomText(5, 400), 2));
        return q;
    }

    /** Like {@link #calibrated}, with the lm head quantized too. */
    static QuantizedGpt2 calibratedWithHead(Gpt2Model m, BitSetting bits, Parameterization p) {
        QuantizedGpt2 q = new QuantizedGpt2(m, QuantSpec.of(bits, p).withLmHead(true));
        q.calibrate(batches(randomText(5, 400), 2));
        return q;
    }

    /** The residual stream leaving the last block (through the installed block sites). */
    static Tensor lastHidden(Gpt2Model m, Tensor ids) {
        Tensor x = m.embed(ids);
        for (Gpt2Block b : m.blocks()) x = b.forward(x);
        return x;
    }

    static double maxAbsDiff(double[] a, double[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }

    static Map<String, double[]> snapshot(Map<String, Tensor> params) {
        Map<String, double[]> out = new LinkedHashMap<>();
        params.forEach((k, v) -> out.put(k, v.toDoubleArray()));
        return out;
    }

    @ParameterizedTest
    @EnumSource(Parameterization.class)
    void sixteenBitsIsCloseToFullPrecision(Parameterization p) {
        Gpt2Model m = tinyModel(1);
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        double[] fp = m.logits(ids).toDoubleArray();
        // calibrated on the evaluated batch itself, so only rounding (not clipping of unseen values) remains,
        // except for the sigmoid form, whose ratio cannot exceed sigmoid(4) = 0.982 and so clips the extremes
        QuantizedGpt2 q = new QuantizedGpt2(m, QuantSpec.of(new BitSetting(16, 16), p));
        q.calibrate(List.of(ids));
        double[] quantized = q.logits(ids).toDoubleArray();
        double tolerance = p == Parameterization.BETA_GAMMA_SIGMOID ? 1e-3 : 1e-5; // logits are O(0.02)
        assertTrue(maxAbsDiff(fp, quantized) < tolerance, p + ": " + maxAbsDiff(fp, quantized));
        assertTrue(maxAbsDiff(fp, quantized) > 0, "the quantizers must be in the computation");
        QuantizedGpt2 coarse = new QuantizedGpt2(tinyModel(1), QuantSpec.of(new BitSetting(4, 4), p));
        coarse.calibrate(List.of(ids));
        // (the sigmoid form's error at 16 bits is its 1.8% clipping, which does not shrink with more bits)
        double factor = p == Parameterization.BETA_GAMMA_SIGMOID ? 2 : 10;
        assertTrue(maxAbsDiff(fp, coarse.logits(ids).toDoubleArray()) > factor * maxAbsDiff(fp, quantized),
                "4 bits must be much coarser than 16");
        q.setQuantizationEnabled(false);
        assertArrayEquals(fp, q.logits(ids).toDoubleArray(), 0.0);
    }

    @Test
    void sitesAreTheFourLinearInputsAndWeightsOfEveryBlock() {
        QuantizedGpt2 q = calibrated(tinyModel(2), new BitSetting(8, 8), Parameterization.MIN_MAX);
        assertEquals(List.of("h.0.attn.c_attn", "h.0.attn.c_proj", "h.0.mlp.c_fc", "h.0.mlp.c_proj",
                "h.1.attn.c_attn", "h.1.attn.c_proj", "h.1.mlp.c_fc", "h.1.mlp.c_proj"), new ArrayList<>(q.sites().keySet()));
        int c = TINY.nEmbd();
        Map<String, int[]> outWidth = Map.of("attn.c_attn", new int[]{c, 3 * c}, "attn.c_proj", new int[]{c, c},
                "mlp.c_fc", new int[]{c, 4 * c}, "mlp.c_proj", new int[]{4 * c, c});
        for (QuantizedGpt2.Site s : q.sites().values()) {
            int[] io = outWidth.get(s.layerPath());
            assertArrayEquals(new int[]{1, 1}, s.inputQuantizer().paramShape(), s.name() + " input is per tensor (one channel)");
            assertArrayEquals(new int[]{1, io[1]}, s.weightQuantizer().paramShape(), s.name() + " weight per output channel");
            assertEquals(8, s.inputQuantizer().config().bits());
        }
        // the activations captured at each site have the layer's input width (c_proj of the MLP sees 4C)
        Map<String, double[][]> ranges = q.inputChannelRanges(batches(randomText(3, 100), 1));
        assertEquals(4 * c, ranges.get("h.1.mlp.c_proj")[0].length);
        assertEquals(c, ranges.get("h.0.attn.c_attn")[0].length);
        Map<String, Tensor> named = q.namedParameters();
        for (String n : List.of("sites.h.0.attn.c_attn.input.thetaMin", "sites.h.1.mlp.c_proj.weight.thetaMax",
                "model.h.0.attn.c_attn.weight", "model.wte.weight")) {
            assertTrue(named.containsKey(n), n);
        }
        assertEquals(8 * 2 * 2, q.rangeParameters().size());
        assertTrue(q.adapterParameters().isEmpty());
    }

    @Test
    void eachSiteQuantizesItsOwnLayer() {
        // widening one site's input range to absurd values changes the output through that site only
        Gpt2Model m = tinyModel(3);
        QuantizedGpt2 q = calibrated(m, new BitSetting(8, 8), Parameterization.MIN_MAX);
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        double[] before = q.logits(ids).toDoubleArray();
        for (String site : q.sites().keySet()) {
            Tensor max = q.namedParameters().get("sites." + site + ".input.thetaMax");
            double old = max.item();
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                max.assign(max.mul(0).add(1e4));
            }
            assertTrue(maxAbsDiff(before, q.logits(ids).toDoubleArray()) > 1e-4, site + " is not in the computation");
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                max.assign(max.mul(0).add(old));
            }
        }
        assertArrayEquals(before, q.logits(ids).toDoubleArray(), 0.0);
    }

    @Test
    void rangeOnlyTrainingChangesNoModelWeightButMovesRanges() {
        QuantizedGpt2 q = calibrated(tinyModel(4), new BitSetting(4, 4), Parameterization.MIN_MAX);
        Map<String, double[]> weights = snapshot(q.modelParameters()), ranges = snapshot(q.rangeParameters());
        QatTraining.Log log = QatTraining.train(q, QuantMode.RANGES, false, randomText(6, 500),
                new QatTraining.Settings(3, 2, 8, 1e-2, 1e-2, 1.0), new Rng(1));
        assertEquals(3, log.losses().length);
        assertFalse(log.diverged());
        for (var e : q.modelParameters().entrySet()) {
            assertArrayEquals(weights.get(e.getKey()), e.getValue().toDoubleArray(), 0.0, e.getKey());
            assertNull(e.getValue().grad(), e.getKey() + " must get no gradient");
        }
        int moved = 0;
        for (var e : q.rangeParameters().entrySet()) {
            assertNotNull(e.getValue().grad(), e.getKey() + " got no gradient");
            if (maxAbsDiff(ranges.get(e.getKey()), e.getValue().toDoubleArray()) > 0) moved++;
        }
        assertTrue(moved > q.rangeParameters().size() / 2, moved + " of " + q.rangeParameters().size() + " ranges moved");
        assertTrue(q.modelParameters().values().iterator().next().requiresGrad(), "weights are trainable again afterwards");
    }

    @ParameterizedTest
    @EnumSource(Parameterization.class)
    void fullQatMovesWeightsAndGradientsReachRanges(Parameterization p) {
        QuantizedGpt2 q = calibrated(tinyModel(5), new BitSetting(4, 8), p);
        Map<String, double[]> weights = snapshot(q.modelParameters());
        QatTraining.train(q, QuantMode.FULL, false, randomText(6, 500), new QatTraining.Settings(2, 2, 8, 1e-3, 1e-3, 0),
                new Rng(1));
        for (var e : q.modelParameters().entrySet()) {
            // every weight takes part in the loss, so each gets a nonzero gradient and moves
            assertTrue(maxAbsDiff(weights.get(e.getKey()), e.getValue().toDoubleArray()) > 0, e.getKey() + " did not move");
        }
        for (var e : q.rangeParameters().entrySet()) {
            assertNotNull(e.getValue().grad(), e.getKey());
            assertTrue(java.util.Arrays.stream(e.getValue().grad().toDoubleArray()).anyMatch(g -> g != 0) || p.isRelativeToData()
                    || e.getKey().contains(".offset"), e.getKey() + " has an all-zero gradient");
        }
    }

    @Test
    void ptqTrainsNothingAndTrainingNeedsCalibration() {
        QuantizedGpt2 q = new QuantizedGpt2(tinyModel(6), QuantSpec.of(new BitSetting(8, 8), Parameterization.MIN_MAX));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> QatTraining.train(q, QuantMode.RANGES, false,
                randomText(1, 200), new QatTraining.Settings(1, 1, 4, 1e-3, 1e-3, 0), new Rng(1)));
        assertTrue(e.getMessage().contains("calibrate"), e.getMessage());
        q.calibrate(batches(randomText(1, 200), 1));
        assertThrows(IllegalStateException.class, () -> q.calibrate(batches(randomText(1, 200), 1)));
        assertEquals(0, QatTraining.train(q, QuantMode.PTQ, false, randomText(1, 200),
                new QatTraining.Settings(5, 1, 4, 1e-3, 1e-3, 0), new Rng(1)).losses().length);
    }

    @Test
    void stateDictRestoresAQuantizedModel() {
        QuantizedGpt2 q = calibrated(tinyModel(7), new BitSetting(4, 8), Parameterization.SCALE_OFFSET);
        QatTraining.train(q, QuantMode.FULL, false, randomText(6, 500), new QatTraining.Settings(2, 2, 8, 1e-3, 1e-3, 0), new Rng(2));
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        QuantizedGpt2 restored = new QuantizedGpt2(tinyModel(99), q.spec());
        restored.calibrate(batches(randomText(42, 300), 1));
        assertTrue(maxAbsDiff(q.logits(ids).toDoubleArray(), restored.logits(ids).toDoubleArray()) > 1e-3);
        restored.loadStateDict(q.stateDict(), true);
        assertArrayEquals(q.logits(ids).toDoubleArray(), restored.logits(ids).toDoubleArray(), 0.0);
    }

    @Test
    void errorsNameTheProblem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BitSetting.parse("W1A8")).getMessage()
                .contains("weight bits = 1 is out of range [2, 16]"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BitSetting.parse("W8A17")).getMessage()
                .contains("activation bits = 17"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BitSetting.parse("8/8")).getMessage()
                .contains("W<bits>A<bits>"));
        assertEquals(new BitSetting(4, 8), BitSetting.parse("w4a8"));
        assertEquals(List.of(new BitSetting(8, 8), new BitSetting(4, 4)), BitSetting.parseList("W8A8, W4A4"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> QuantMode.parse("half")).getMessage()
                .contains("valid modes: ptq, ranges, full"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Calibration.parse("kl")).getMessage()
                .contains("min-max, percentile, mse"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Parameterization.parse("lsq")).getMessage()
                .contains("unknown parameterization 'lsq'"));
        assertThrows(IllegalArgumentException.class, () -> new QuantizedGpt2(tinyModel(1), QuantSpec.of(new BitSetting(8, 8),
                Parameterization.MIN_MAX)).site("h.9.attn.c_attn"));
    }

    @ParameterizedTest
    @EnumSource(Calibration.class)
    void calibrationsGiveNestedRanges(Calibration c) {
        QuantizedGpt2 minMax = calibrated(tinyModel(8), new BitSetting(4, 4), Parameterization.MIN_MAX);
        QuantizedGpt2 q = new QuantizedGpt2(tinyModel(8), QuantSpec.of(new BitSetting(4, 4), Parameterization.MIN_MAX)
                .withCalibration(c));
        q.calibrate(batches(randomText(5, 400), 2));
        for (String site : q.sites().keySet()) {
            Quantizer a = q.site(site).inputQuantizer(), full = minMax.site(site).inputQuantizer();
            double lo = a.effectiveRange().minValues()[0], hi = a.effectiveRange().maxValues()[0];
            // percentile and MSE only ever shrink the observed [min, max] (up to the zero point's rounding)
            double step = full.scale().item();
            assertTrue(hi <= full.effectiveRange().maxValues()[0] + step && lo >= full.effectiveRange().minValues()[0] - step, site);
            if (c == Calibration.MIN_MAX) assertEquals(full.effectiveRange().maxValues()[0], hi, 0.0);
        }
    }

    @Test
    void trainsOnTheFastCpuBackend() {
        // the experiments run on the cpu backend, which fails on rank-0 elementwise ops: the loss and the
        // per-tensor quantizers must avoid them (see QuantizedGpt2.lmLoss)
        io.github.grad4j.backend.Backend saved = io.github.grad4j.tensor.Backends.defaultBackend();
        io.github.grad4j.tensor.Backends.setDefault(io.github.grad4j.backend.cpu.CpuBackend.create());
        try {
            Gpt2Model m = new Gpt2Model(TINY, new Rng(1));
            m.eval();
            QuantizedGpt2 q = new QuantizedGpt2(m, QuantSpec.of(new BitSetting(4, 4), Parameterization.MIN_MAX));
            TokenDataset data = randomText(2, 300);
            q.calibrate(batches(data, 1));
            Quadapter.attach(q);
            QatTraining.Log full = QatTraining.train(q, QuantMode.FULL, true, data, new QatTraining.Settings(2, 2, 8, 1e-3, 1e-3, 1.0), new Rng(1));
            List<QatTraining.Log> blocks = QatTraining.calibrateBlocks(q, data, new QatTraining.Settings(1, 2, 8, 1e-3, 0, 0), new Rng(2));
            assertFalse(full.diverged());
            assertTrue(Double.isFinite(blocks.get(1).lastLoss()));
            double ppl = LmEval.perplexity(q::loss, data, new LmEval.Windows(2, 2, 8));
            assertTrue(ppl > 1 && ppl < 2 * TINY.vocabSize(), "perplexity " + ppl);
        } finally {
            io.github.grad4j.tensor.Backends.setDefault(saved);
        }
    }

    // ---------------------------------------------------------------- the optional lm head site

    @Test
    void lmHeadIsOffByDefaultAndASiteOfItsOwnWhenOn() {
        assertFalse(QuantSpec.of(new BitSetting(8, 8), Parameterization.MIN_MAX).quantizeLmHead());
        Gpt2Model plainModel = tinyModel(10);
        calibrated(plainModel, new BitSetting(8, 8), Parameterization.MIN_MAX);
        assertFalse(plainModel.hasHeadTransforms());
        Gpt2Model m = tinyModel(10);
        QuantizedGpt2 q = calibratedWithHead(m, new BitSetting(8, 8), Parameterization.MIN_MAX);
        assertTrue(q.spec().quantizeLmHead());
        assertTrue(m.hasHeadTransforms());
        assertEquals(List.of("h.0.attn.c_attn", "h.0.attn.c_proj", "h.0.mlp.c_fc", "h.0.mlp.c_proj",
                "h.1.attn.c_attn", "h.1.attn.c_proj", "h.1.mlp.c_fc", "h.1.mlp.c_proj", "lm_head"), new ArrayList<>(q.sites().keySet()));
        QuantizedGpt2.Site head = q.site(QuantizedGpt2.LM_HEAD);
        assertTrue(head.isLmHead());
        assertNull(head.layer());
        assertEquals(-1, head.block());
        assertFalse(q.site("h.0.attn.c_attn").isLmHead());
        assertArrayEquals(new int[]{1, 1}, head.inputQuantizer().paramShape(), "the head's input is per tensor");
        assertArrayEquals(new int[]{TINY.vocabSize(), 1}, head.weightQuantizer().paramShape(), "wte per vocabulary row");
        assertEquals(8, head.weightQuantizer().config().bits());
        assertEquals(0, head.weightQuantizer().config().channelAxis());
        // the head's input is the ln_f output: C channels
        assertEquals(TINY.nEmbd(), q.inputChannelRanges(batches(randomText(3, 100), 1)).get("lm_head")[0].length);
        assertEquals((8 + 1) * 2 * 2, q.rangeParameters().size());
        for (String n : List.of("sites.lm_head.input.thetaMin", "sites.lm_head.input.thetaMax", "sites.lm_head.weight.thetaMin",
                "sites.lm_head.weight.thetaMax")) {
            assertTrue(q.rangeParameters().containsKey(n), n);
        }
        q.detach();
        assertFalse(m.hasHeadTransforms());
        assertFalse(q.site("h.0.attn.c_attn").layer().hasTransforms());
    }

    @Test
    void lmHeadLogitsAreTheQuantizedProductAndTheEmbeddingIsUnaffected() {
        BitSetting bits = new BitSetting(4, 4);
        Gpt2Model m = tinyModel(11);
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        double[] fp = m.logits(ids).toDoubleArray();
        double[] embedFp = m.embed(ids).toDoubleArray();
        QuantizedGpt2 q = calibratedWithHead(m, bits, Parameterization.MIN_MAX);
        QuantizedGpt2 blocksOnly = calibrated(tinyModel(11), bits, Parameterization.MIN_MAX);
        double[] logits = q.logits(ids).toDoubleArray();

        // by hand: Q_a(ln_f(h)) Q_w(wte)^T, with h the (block-quantized) stream leaving the last block
        Tensor h = lastHidden(m, ids);
        Tensor a = ((LayerNorm) m.children().get("ln_f")).forward(h).reshape(-1, TINY.nEmbd());
        QuantizedGpt2.Site head = q.site("lm_head");
        Tensor qa = head.inputQuantizer().forward(a.reshape(-1, 1)).reshape(a.shape());
        Tensor qw = head.weightQuantizer().forward(m.headWeight());
        assertArrayEquals(qa.matmul(qw.mT()).toDoubleArray(), logits, 1e-12);
        // both operands are really quantized, and the logits differ from the unquantized and the blocks-only model's
        assertTrue(maxAbsDiff(a.toDoubleArray(), qa.toDoubleArray()) > 1e-3);
        assertTrue(maxAbsDiff(m.headWeight().toDoubleArray(), qw.toDoubleArray()) > 1e-4);
        assertTrue(maxAbsDiff(fp, logits) > 1e-3);
        assertTrue(maxAbsDiff(blocksOnly.logits(ids).toDoubleArray(), logits) > 1e-3);

        // the embedding lookup reads the unquantized wte: the stream entering block 0, and so the one leaving
        // the last block, are those of the model without the head site
        assertArrayEquals(embedFp, m.embed(ids).toDoubleArray(), 0.0);
        assertArrayEquals(lastHidden(blocksOnly.model(), ids).toDoubleArray(), h.toDoubleArray(), 0.0);

        // incremental decoding with a KV cache computes its logits through the same quantized head
        int b = ids.size(0), t = ids.size(1), split = 5;
        int[] all = ids.toIntArray(), first = new int[b * split], rest = new int[b * (t - split)];
        for (int r = 0; r < b; r++) {
            System.arraycopy(all, r * t, first, r * split, split);
            System.arraycopy(all, r * t + split, rest, r * (t - split), t - split);
        }
        KvCache cache = m.newCache(b);
        m.logits(Tensor.ofInts(first, b, split), cache);
        double[] cached = m.logits(Tensor.ofInts(rest, b, t - split), cache).toDoubleArray();
        int v = TINY.vocabSize();
        double[] expected = new double[cached.length];
        for (int r = 0; r < b; r++) System.arraycopy(logits, (r * t + split) * v, expected, r * (t - split) * v, (t - split) * v);
        assertArrayEquals(expected, cached, 1e-9);

        // quantization off: the full-precision model, exactly
        q.setQuantizationEnabled(false);
        assertArrayEquals(fp, q.logits(ids).toDoubleArray(), 0.0);
    }

    @Test
    void gradientsReachWteThroughBothUsesAndTheHeadRanges() {
        QuantizedGpt2 q = calibratedWithHead(tinyModel(12), new BitSetting(4, 8), Parameterization.MIN_MAX);
        Gpt2Model m = q.model();
        TokenDataset.Batch batch = randomText(6, 500).window(0, 1, 2, 8);
        Tensor ids = batch.inputs(), targets = batch.targets();
        Tensor wte = m.headWeight();
        q.loss(ids, targets).backward();
        double[] both = wte.grad().toDoubleArray();
        for (String n : List.of("input.thetaMin", "input.thetaMax", "weight.thetaMin", "weight.thetaMax")) {
            Tensor g = q.rangeParameters().get("sites.lm_head." + n).grad();
            assertNotNull(g, n);
            assertTrue(java.util.Arrays.stream(g.toDoubleArray()).allMatch(Double::isFinite), n);
            assertTrue(java.util.Arrays.stream(g.toDoubleArray()).anyMatch(x -> x != 0), n + " has an all-zero gradient");
        }
        // the head's use alone: the same loss with the embedding cut out of the graph
        q.zeroGrad();
        Tensor x = m.embed(ids).detach();
        for (Gpt2Block blk : m.blocks()) x = blk.forward(x);
        int n = ids.numel(), v = TINY.vocabSize(), c = TINY.nEmbd();
        Functional.crossEntropy(m.head(x).reshape(n, v), targets.reshape(n), Gpt2Model.IGNORE_INDEX, Functional.Reduction.MEAN)
                .backward();
        double[] headOnly = wte.grad().toDoubleArray();
        java.util.Set<Integer> present = new java.util.HashSet<>();
        for (int id : ids.toIntArray()) present.add(id);
        assertTrue(present.size() < v, "some tokens must be absent from the batch");
        for (int row = 0; row < v; row++) {
            double head = 0, embedding = 0;
            for (int j = 0; j < c; j++) {
                assertTrue(Double.isFinite(both[row * c + j]));
                head = Math.max(head, Math.abs(headOnly[row * c + j]));
                embedding = Math.max(embedding, Math.abs(both[row * c + j] - headOnly[row * c + j]));
            }
            assertTrue(head > 0, "row " + row + " gets no gradient through the head");
            if (present.contains(row)) assertTrue(embedding > 1e-12, "token " + row + " gets no gradient through the embedding");
            else assertEquals(0, embedding, 1e-15, "token " + row + " is not in the batch");
        }

        // and in full QAT the head's ranges and wte get finite gradients and move
        q.zeroGrad();
        Map<String, double[]> before = snapshot(q.rangeParameters());
        QatTraining.Log log = QatTraining.train(q, QuantMode.FULL, false, randomText(6, 500),
                new QatTraining.Settings(2, 2, 8, 1e-3, 1e-3, 0), new Rng(1));
        assertFalse(log.diverged());
        assertTrue(java.util.Arrays.stream(wte.grad().toDoubleArray()).allMatch(Double::isFinite));
        for (var e : q.rangeParameters().entrySet()) {
            if (!e.getKey().startsWith("sites.lm_head.")) continue;
            assertNotNull(e.getValue().grad(), e.getKey());
            assertTrue(java.util.Arrays.stream(e.getValue().grad().toDoubleArray()).allMatch(Double::isFinite), e.getKey());
            assertTrue(maxAbsDiff(before.get(e.getKey()), e.getValue().toDoubleArray()) > 0, e.getKey() + " did not move");
        }
    }

    @Test
    void stateDictOfALmHeadModelIncludesItsSite() {
        QuantizedGpt2 q = calibratedWithHead(tinyModel(13), new BitSetting(4, 8), Parameterization.SCALE_OFFSET);
        QatTraining.train(q, QuantMode.FULL, false, randomText(6, 500), new QatTraining.Settings(2, 2, 8, 1e-2, 1e-3, 0), new Rng(2));
        Map<String, Tensor> state = q.stateDict();
        for (String n : List.of("sites.lm_head.input.scale", "sites.lm_head.input.offset", "sites.lm_head.weight.scale",
                "sites.lm_head.weight.offset")) {
            assertTrue(state.containsKey(n), n);
        }
        assertArrayEquals(new int[]{TINY.vocabSize(), 1}, state.get("sites.lm_head.weight.scale").shape());
        Tensor ids = batches(randomText(9, 200), 1).get(0);
        QuantizedGpt2 restored = new QuantizedGpt2(tinyModel(99), q.spec());
        restored.calibrate(batches(randomText(42, 300), 1));
        assertTrue(maxAbsDiff(q.site("lm_head").inputQuantizer().scale().toDoubleArray(),
                restored.site("lm_head").inputQuantizer().scale().toDoubleArray()) > 0);
        restored.loadStateDict(state, true);
        assertArrayEquals(q.logits(ids).toDoubleArray(), restored.logits(ids).toDoubleArray(), 0.0);
        // a model without the head site does not silently drop those tensors
        QuantizedGpt2 noHead = calibrated(tinyModel(99), new BitSetting(4, 8), Parameterization.SCALE_OFFSET);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> noHead.loadStateDict(state, true)).getMessage()
                .contains("sites.lm_head."));
    }
}
