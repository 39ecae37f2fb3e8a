package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2GeneratorTest {
    static final Gpt2Config CONFIG = new Gpt2Config(2, 2, 16, 8, 23);

    /** A model with larger weights than GPT-2's init, so its next-token distributions are far from uniform. */
    static Gpt2Model model() {
        Gpt2Model m = new Gpt2Model(CONFIG, new Rng(41));
        Rng rng = new Rng(42);
        var state = new java.util.LinkedHashMap<String, Tensor>();
        for (var e : m.stateDict().entrySet()) {
            if (e.getValue().dim() == 2) state.put(e.getKey(), Tensor.randn(rng, 0.3, e.getValue().dtype(), e.getValue().shape()));
        }
        m.loadStateDict(state, false);
        return m;
    }

    @Test
    void cachedAndUncachedGenerationProduceTheSameTokens() {
        Gpt2Generator generator = new Gpt2Generator(model());
        int[] prompt = {1, 2, 3};
        // 12 new tokens overrun the context of 8: the window slides, and the cache is rebuilt from it
        Gpt2Generator.Options sampling = Gpt2Generator.Options.sampling(12).withTemperature(0.9).withTopK(5);
        int[] cached = generator.generate(prompt, sampling, new Rng(5));
        int[] uncached = generator.generate(prompt, sampling.withCache(false), new Rng(5));
        assertEquals(12, cached.length);
        assertArrayEquals(uncached, cached);
        Gpt2Generator.Options greedy = Gpt2Generator.Options.sampling(12).withTemperature(0);
        assertArrayEquals(generator.generate(prompt, greedy.withCache(false), new Rng(0)), generator.generate(prompt, greedy, new Rng(0)));
        // seeded: the same seed repeats, another seed differs
        assertArrayEquals(cached, generator.generate(prompt, sampling, new Rng(5)));
        assertFalse(Arrays.equals(cached, generator.generate(prompt, sampling, new Rng(6))));
    }

    @Test
    void greedyFollowsTheArgmaxOfTheFullForward() {
        Gpt2Model model = model();
        int[] out = new Gpt2Generator(model).generate(new int[]{7, 8}, Gpt2Generator.Options.sampling(4).withTemperature(0), new Rng(0));
        int[] seq = {7, 8, 0, 0, 0, 0};
        for (int step = 0; step < 4; step++) {
            int len = 2 + step;
            double[] logits = model.logits(Tensor.ofInts(Arrays.copyOf(seq, len), 1, len)).toDoubleArray();
            int best = 0;
            for (int k = 0; k < CONFIG.vocabSize(); k++) if (logits[(len - 1) * CONFIG.vocabSize() + k] > logits[(len - 1) * CONFIG.vocabSize() + best]) best = k;
            seq[len] = best;
        }
        assertArrayEquals(Arrays.copyOfRange(seq, 2, 6), out);
        // top-k 1 is greedy at any temperature
        assertArrayEquals(out, new Gpt2Generator(model).generate(new int[]{7, 8},
                Gpt2Generator.Options.sampling(4).withTemperature(2.0).withTopK(1), new Rng(3)));
    }

    @Test
    void stopsAtTheStopToken() {
        Gpt2Generator generator = new Gpt2Generator(model());
        Gpt2Generator.Options greedy = Gpt2Generator.Options.sampling(6).withTemperature(0);
        int[] full = generator.generate(new int[]{4}, greedy, new Rng(0));
        int[] stopped = generator.generate(new int[]{4}, greedy.withStopToken(full[2]), new Rng(0));
        int firstStop = 0;
        while (full[firstStop] != full[2]) firstStop++;
        assertArrayEquals(Arrays.copyOf(full, firstStop + 1), stopped);
    }

    @Test
    void topKSamplesOnlyAmongTheKMostLikely() {
        double[] logits = {0, 1, 2, 3};
        Gpt2Generator.Options opts = Gpt2Generator.Options.sampling(1).withTopK(2);
        Rng rng = new Rng(9);
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[Gpt2Generator.sample(logits, opts, rng)]++;
        assertEquals(0, counts[0] + counts[1]);
        // P(3 | top 2) = e^3 / (e^2 + e^3) = 0.731; 4000 draws have a standard error of 0.007
        assertEquals(1 / (1 + Math.exp(-1)), counts[3] / 4000.0, 0.03);
    }

    @Test
    void badPromptsGiveClearErrors() {
        Gpt2Model model = model();
        Gpt2Generator generator = new Gpt2Generator(model);
        var opts = Gpt2Generator.Options.sampling(2);
        var e = assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[9], opts, new Rng(0)));
        assertTrue(e.getMessage().contains("9 tokens") && e.getMessage().contains("n_positions = 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[]{1, 50256}, opts, new Rng(0)));
        assertTrue(e.getMessage().contains("token 1 is id 50256") && e.getMessage().contains("[0, 23)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[0], opts, new Rng(0)));
        assertThrows(IllegalArgumentException.class, () -> generator.generate(new int[]{1}, opts.withStopToken(23), new Rng(0)));
        assertThrows(IllegalArgumentException.class, () -> opts.withTemperature(-1));
        // generation leaves the model in the mode it found it in
        model.train(true);
        generator.generate(new int[]{1}, opts, new Rng(0));
        assertTrue(model.isTraining());
    }
}
