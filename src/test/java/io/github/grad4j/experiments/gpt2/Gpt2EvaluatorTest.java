package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2EvaluatorTest {
    static final Gpt2Config CONFIG = new Gpt2Config(2, 2, 16, 8, 23);
    static final int N = 30; // 29 predictions: 3 full windows of 8 and a partial one

    /** A float64 model (so sums in a different order agree to ~1e-12) with weights large enough to be far from uniform. */
    static Gpt2Model model() {
        Gpt2Model m = new Gpt2Model(CONFIG, new Rng(41), DType.FLOAT64);
        Rng rng = new Rng(42);
        var state = new java.util.LinkedHashMap<String, Tensor>();
        for (var e : m.stateDict().entrySet()) {
            if (e.getValue().dim() == 2) state.put(e.getKey(), Tensor.randn(rng, 0.3, DType.FLOAT64, e.getValue().shape()));
        }
        m.loadStateDict(state, false);
        return m;
    }

    static int[] tokens() {
        Rng rng = new Rng(7);
        int[] t = new int[N];
        for (int i = 0; i < N; i++) t[i] = rng.nextInt(CONFIG.vocabSize());
        return t;
    }

    @Test
    void windowsScoreEveryPredictionExactlyOnceWithinTheContext() {
        for (int n = 2; n <= 40; n++) {
            for (int context = 1; context <= 9; context++) {
                for (int stride = 1; stride <= context; stride++) {
                    List<Gpt2Evaluator.Window> windows = Gpt2Evaluator.windows(n, context, stride);
                    int next = 1; // the next token whose prediction must be scored
                    for (int i = 0; i < windows.size(); i++) {
                        Gpt2Evaluator.Window w = windows.get(i);
                        String where = "n " + n + ", context " + context + ", stride " + stride + ", window " + i + " " + w;
                        assertEquals(next, w.firstScored(), where);
                        assertTrue(w.begin() >= 0 && w.end() - w.begin() <= context && w.end() - w.begin() >= 1, where);
                        assertTrue(w.firstScored() > w.begin() && w.firstScored() <= w.end(), where);
                        int scored = w.end() - w.firstScored() + 1;
                        if (i == 0) assertEquals(0, w.begin(), where);
                        else assertTrue(scored <= stride, where);
                        // as Hugging Face's guide: window i starts at i * stride and is full unless it is the last
                        assertEquals(i * stride, w.begin(), where);
                        assertTrue(i == windows.size() - 1 || w.end() - w.begin() == context, where);
                        next = w.end() + 1;
                    }
                    assertEquals(n, next, "n " + n + ", context " + context + ", stride " + stride + ": not every token scored");
                }
            }
        }
    }

    @Test
    void strideEqualToTheContextIsPlainChunkedCrossEntropy() {
        Gpt2Model model = model();
        int[] t = tokens();
        int c = CONFIG.nPositions();
        double nll = 0;
        int count = 0;
        for (int start = 0; start < N - 1; start += c) {
            int len = Math.min(c, N - 1 - start);
            Tensor ids = Tensor.ofInts(Arrays.copyOfRange(t, start, start + len), 1, len);
            Tensor targets = Tensor.ofInts(Arrays.copyOfRange(t, start + 1, start + 1 + len), 1, len);
            nll += model.loss(ids, targets).item() * len;
            count += len;
        }
        Gpt2Evaluator.Result r = Gpt2Evaluator.evaluate(model, t, c);
        assertEquals(N - 1, r.tokens());
        assertEquals(N - 1, count);
        assertEquals(nll / count, r.meanCrossEntropy(), 1e-12);
        assertEquals(Math.exp(r.meanCrossEntropy()), r.perplexity(), 0);
    }

    @Test
    void smallerStrideScoresEachTokenWithTheLongerContextOfItsWindow() {
        Gpt2Model model = model();
        int[] t = tokens();
        int c = CONFIG.nPositions(), stride = 3;
        // brute force, one forward pass per token: token j (j > c) is scored by window
        // k = ceil((j - c) / stride), which starts at token k * stride (tokens 1..c by window 0)
        double nll = 0;
        for (int j = 1; j < N; j++) {
            int begin = j <= c ? 0 : stride * ((j - c + stride - 1) / stride);
            int len = j - begin; // causal attention: the prediction of j sees only tokens [begin, j)
            Tensor logits = model.logits(Tensor.ofInts(Arrays.copyOfRange(t, begin, j), 1, len));
            Tensor last = logits.select(0, 0).select(0, len - 1).reshape(1, CONFIG.vocabSize());
            nll += Functional.crossEntropy(last, Tensor.ofInts(new int[]{t[j]}, 1)).item();
        }
        Gpt2Evaluator.Result strided = Gpt2Evaluator.evaluate(model, t, stride);
        assertEquals(N - 1, strided.tokens());
        assertEquals(nll / (N - 1), strided.meanCrossEntropy(), 1e-10);
        Gpt2Evaluator.Result chunked = Gpt2Evaluator.evaluate(model, t, c);
        assertTrue(Math.abs(strided.meanCrossEntropy() - chunked.meanCrossEntropy()) > 1e-4,
                "more context should change the score: " + strided + " vs " + chunked);
        assertTrue(Double.isFinite(strided.perplexity()) && strided.perplexity() > 1);
    }

    @Test
    void leavesTheModelInItsModeAndRejectsBadInput() {
        Gpt2Model model = model();
        model.train(true);
        Gpt2Evaluator.evaluate(model, tokens(), 4);
        assertTrue(model.isTraining());
        var e = assertThrows(IllegalArgumentException.class, () -> Gpt2Evaluator.evaluate(model, tokens(), 0));
        assertTrue(e.getMessage().contains("stride must be in [1, context length 8], got 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Gpt2Evaluator.evaluate(model, tokens(), 9));
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Evaluator.evaluate(model, new int[]{3}, 4));
        assertTrue(e.getMessage().contains("at least 2 tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Evaluator.evaluate(model, new int[]{3, 23, 1}, 4));
        assertTrue(e.getMessage().contains("token id 23 at position 1 is outside the model's vocabulary [0, 23)"), e.getMessage());
    }
}
