package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The experiment hooks: embed/blocks/head recompose logits; Conv1D transforms act where documented. */
class Gpt2HooksTest {
    @Test
    void embedBlocksHeadEqualLogits() {
        Gpt2Model model = new Gpt2Model(Gpt2ModelTest.TINY, new Rng(3), DType.FLOAT64);
        model.eval();
        Tensor ids = Gpt2ModelTest.randomIds(new Rng(4), 23, 2, 5);
        Tensor x = model.embed(ids);
        for (Gpt2Block b : model.blocks()) x = b.forward(x);
        assertArrayEquals(model.logits(ids).toDoubleArray(), model.head(x).toDoubleArray(), 1e-12);
        assertEquals(2, model.blocks().size());
    }

    @Test
    void conv1dTransformsApplyToInputAndWeight() {
        Conv1D layer = new Conv1D(3, 2, 0.5, new Rng(1), DType.FLOAT64);
        Tensor x = Tensor.randn(new Rng(2), 1.0, DType.FLOAT64, 4, 3);
        double[] plain = layer.forward(x).toDoubleArray();
        // doubling the input and halving the weight leaves x W unchanged, but each alone doubles/halves it
        layer.setTransforms(t -> t.mul(2.0), w -> w.mul(0.5));
        assertTrue(layer.hasTransforms());
        assertArrayEquals(plain, layer.forward(x).toDoubleArray(), 1e-12);
        layer.setTransforms(t -> t.mul(2.0), null);
        double[] doubled = layer.forward(x).toDoubleArray();
        layer.setTransforms(null, null);
        assertFalse(layer.hasTransforms());
        double[] bias = layer.namedParameters().get("bias").toDoubleArray();
        for (int i = 0; i < plain.length; i++) {
            assertEquals(2 * (plain[i] - bias[i % 2]) + bias[i % 2], doubled[i], 1e-12);
        }
        assertArrayEquals(plain, layer.forward(x).toDoubleArray(), 0.0);
    }

    @Test
    void headTransformsApplyToTheHeadOnly() {
        Gpt2Model model = new Gpt2Model(Gpt2ModelTest.TINY, new Rng(3), DType.FLOAT64);
        model.eval();
        Tensor ids = Gpt2ModelTest.randomIds(new Rng(4), 23, 2, 5);
        double[] plain = model.logits(ids).toDoubleArray(), embedded = model.embed(ids).toDoubleArray();
        java.util.List<int[]> seen = new java.util.ArrayList<>();
        // doubling the input and halving the weight leaves x wte^T unchanged; halving the weight alone halves it
        model.setHeadTransforms(x -> { seen.add(x.shape()); return x.mul(2.0); }, w -> { seen.add(w.shape()); return w.mul(0.5); });
        assertTrue(model.hasHeadTransforms());
        assertArrayEquals(plain, model.logits(ids).toDoubleArray(), 1e-12);
        int c = Gpt2ModelTest.TINY.nEmbd(), v = Gpt2ModelTest.TINY.vocabSize();
        assertArrayEquals(new int[]{2 * 5, c}, seen.get(0), "the input is ln_f's output as [B*T, C]");
        assertArrayEquals(new int[]{v, c}, seen.get(1), "the weight is wte [vocab, C]");
        model.setHeadTransforms(null, w -> w.mul(0.5));
        double[] halved = model.logits(ids).toDoubleArray();
        for (int i = 0; i < plain.length; i++) assertEquals(plain[i] / 2, halved[i], 1e-12);
        // the embedding lookup reads wte as stored, and the cached path goes through the head too
        assertArrayEquals(embedded, model.embed(ids).toDoubleArray(), 0.0);
        KvCache cache = model.newCache(2);
        double[] cached = model.logits(ids, cache).toDoubleArray();
        assertArrayEquals(halved, cached, 1e-12);
        model.setHeadTransforms(null, null);
        assertFalse(model.hasHeadTransforms());
        assertArrayEquals(plain, model.logits(ids).toDoubleArray(), 0.0);
    }
}
