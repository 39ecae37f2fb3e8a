package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

/**
 * Autoregressive sampling from a {@link Gpt2Model}: temperature, top-k, a seeded generator, a
 * token budget and an optional stop token. Runs in eval mode (no dropout) without recording a
 * graph, and by default feeds one token per step through a {@link KvCache}.
 *
 * <p>Once the sequence fills the context, the model sees only the last {@code n_positions} tokens
 * (as nanoGPT's sample does); the cache is then rebuilt from that window each step, so cached and
 * uncached generation stay identical.
 */
public final class Gpt2Generator {

    /**
     * How to sample.
     *
     * @param maxNewTokens most tokens to generate (&gt;= 0)
     * @param temperature  logits are divided by it; 0 means greedy (always the most likely token)
     * @param topK         sample only among the k most likely tokens; 0 means all
     * @param stopTokenId  stop after generating this token (e.g. &lt;|endoftext|&gt; = 50256); -1 for none
     * @param useCache     feed one token per step through a key/value cache (same tokens, faster)
     */
    public record Options(int maxNewTokens, double temperature, int topK, int stopTokenId, boolean useCache) {
        public Options {
            if (maxNewTokens < 0) throw new IllegalArgumentException("generate: maxNewTokens must be >= 0, got " + maxNewTokens);
            if (!(temperature >= 0) || !Double.isFinite(temperature)) {
                throw new IllegalArgumentException("generate: temperature must be finite and >= 0, got " + temperature);
            }
            if (topK < 0) throw new IllegalArgumentException("generate: topK must be >= 0 (0 = no limit), got " + topK);
            if (stopTokenId < -1) throw new IllegalArgumentException("generate: stopTokenId must be a token id or -1, got " + stopTokenId);
        }

        /** Temperature 1, no top-k, no stop token, with the cache. */
        public static Options sampling(int maxNewTokens) {
            return new Options(maxNewTokens, 1.0, 0, -1, true);
        }

        public Options withTemperature(double t) {
            return new Options(maxNewTokens, t, topK, stopTokenId, useCache);
        }

        public Options withTopK(int k) {
            return new Options(maxNewTokens, temperature, k, stopTokenId, useCache);
        }

        public Options withStopToken(int id) {
            return new Options(maxNewTokens, temperature, topK, id, useCache);
        }

        public Options withCache(boolean cache) {
            return new Options(maxNewTokens, temperature, topK, stopTokenId, cache);
        }
    }

    private final Gpt2Model model;

    public Gpt2Generator(Gpt2Model model) {
        this.model = java.util.Objects.requireNonNull(model, "model");
    }

    /**
     * Continues {@code prompt}; returns only the new tokens, ending with the stop token if one was
     * generated. The same prompt, options and generator state give the same tokens.
     */
    public int[] generate(int[] prompt, Options options, Rng rng) {
        Gpt2Config config = model.config();
        checkPrompt(prompt, config);
        if (options.stopTokenId() >= config.vocabSize()) {
            throw new IllegalArgumentException("generate: stop token " + options.stopTokenId() + " is outside the vocabulary [0, "
                    + config.vocabSize() + ")");
        }
        int context = config.nPositions();
        int[] sequence = Arrays.copyOf(prompt, prompt.length + options.maxNewTokens());
        int length = prompt.length;
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            KvCache cache = options.useCache() ? model.newCache(1) : null;
            for (int step = 0; step < options.maxNewTokens(); step++) {
                int windowStart = Math.max(0, length - context);
                double[] logits;
                if (cache == null) {
                    logits = lastLogits(model.logits(ids(sequence, windowStart, length), null));
                } else {
                    if (cache.length() > 0 && windowStart == 0) {
                        // the cache holds sequence[0, length - 1): feed only the newest token
                        logits = lastLogits(model.logits(ids(sequence, length - 1, length), cache));
                    } else {
                        // first step, or the window slid: positions changed, so rebuild from the window
                        cache.reset();
                        logits = lastLogits(model.logits(ids(sequence, windowStart, length), cache));
                    }
                }
                int next = sample(logits, options, rng);
                sequence[length++] = next;
                if (next == options.stopTokenId()) break;
            }
        } finally {
            model.train(wasTraining);
        }
        return Arrays.copyOfRange(sequence, prompt.length, length);
    }

    private static void checkPrompt(int[] prompt, Gpt2Config config) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("generate: the prompt is empty; start it with at least one token "
                    + "(GPT-2 conventionally uses <|endoftext|>)");
        }
        if (prompt.length > config.nPositions()) {
            throw new IllegalArgumentException("generate: the prompt has " + prompt.length
                    + " tokens, more than the context length n_positions = " + config.nPositions());
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("generate: prompt token " + i + " is id " + prompt[i]
                        + ", outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    private static Tensor ids(int[] sequence, int from, int to) {
        return Tensor.ofInts(Arrays.copyOfRange(sequence, from, to), 1, to - from);
    }

    private static double[] lastLogits(Tensor logits) {
        int t = logits.size(1);
        return logits.select(0, 0).select(0, t - 1).toDoubleArray();
    }

    /** Greedy at temperature 0; otherwise a draw from softmax(logits / temperature) restricted to the top k. */
    static int sample(double[] logits, Options options, Rng rng) {
        int n = logits.length;
        if (options.temperature() == 0) {
            int best = 0;
            for (int i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
            return best;
        }
        double[] z = new double[n];
        for (int i = 0; i < n; i++) z[i] = logits[i] / options.temperature();
        if (options.topK() > 0 && options.topK() < n) {
            double[] sorted = z.clone();
            Arrays.sort(sorted);
            double kth = sorted[n - options.topK()];
            // as nanoGPT: everything below the k-th largest value is excluded (ties with it stay in)
            for (int i = 0; i < n; i++) if (z[i] < kth) z[i] = Double.NEGATIVE_INFINITY;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double total = 0;
        for (int i = 0; i < n; i++) {
            z[i] = Math.exp(z[i] - max);
            total += z[i];
        }
        double u = rng.nextDouble() * total;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < n; i++) {
            if (z[i] == 0) continue;
            cumulative += z[i];
            last = i;
            if (u < cumulative) return i;
        }
        return last; // u landed on the rounding edge of the total
    }
}
