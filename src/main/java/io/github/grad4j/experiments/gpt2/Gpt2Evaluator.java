package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Mean cross-entropy and perplexity of a token sequence under a {@link Gpt2Model}, with the sliding
 * window of Hugging Face's perplexity guide: windows of at most the model's context length advance
 * by {@code stride} tokens; the first window scores every prediction it makes, each later window
 * scores only its last {@code stride} predictions (fewer at the end), which thereby see at least
 * {@code context - stride} tokens of earlier text. Every token after the first is predicted and
 * scored exactly once (the first token has nothing to be predicted from). {@code stride == context}
 * is plain chunked evaluation; a smaller stride gives each prediction more context (a lower,
 * fairer perplexity) at the cost of more forward passes.
 */
public final class Gpt2Evaluator {

    /**
     * @param meanCrossEntropy mean negative log-likelihood, nats per scored token
     * @param tokens           number of scored tokens (the sequence length minus one)
     */
    public record Result(double meanCrossEntropy, long tokens) {
        /** exp(mean cross-entropy). */
        public double perplexity() {
            return Math.exp(meanCrossEntropy);
        }
    }

    /**
     * One forward pass: inputs are tokens {@code [begin, end)}, predicting tokens
     * {@code [begin + 1, end + 1)}; the predictions of tokens {@code [firstScored, end + 1)} are scored.
     */
    record Window(int begin, int end, int firstScored) {
    }

    private Gpt2Evaluator() {
    }

    /** As {@link #evaluate(Gpt2Model, int[], int, LongConsumer)} without progress reports. */
    public static Result evaluate(Gpt2Model model, int[] tokens, int stride) {
        return evaluate(model, tokens, stride, null);
    }

    /**
     * Evaluates {@code tokens} (at least 2) in eval mode without recording a graph.
     *
     * @param stride   tokens each window advances, in [1, context]
     * @param progress called with the number of tokens scored so far after each window (may be null)
     */
    public static Result evaluate(Gpt2Model model, int[] tokens, int stride, LongConsumer progress) {
        Objects.requireNonNull(model, "model");
        Gpt2Config config = model.config();
        checkTokens(tokens, config);
        List<Window> windows = windows(tokens.length, config.nPositions(), stride);
        Backend backend = model.parameters().get(0).backend();
        boolean wasTraining = model.isTraining();
        model.eval();
        double nllSum = 0; // per-window sums added in double: millions of tokens lose nothing to rounding
        long scored = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Window w : windows) {
                int length = w.end() - w.begin();
                int[] targets = Arrays.copyOfRange(tokens, w.begin() + 1, w.end() + 1);
                // predictions before firstScored were scored by an earlier window
                Arrays.fill(targets, 0, w.firstScored() - w.begin() - 1, Gpt2Model.IGNORE_INDEX);
                Tensor ids = Tensor.ofInts(Arrays.copyOfRange(tokens, w.begin(), w.end()), 1, length).to(backend);
                Tensor logits = model.logits(ids).reshape(length, config.vocabSize());
                Tensor target = Tensor.ofInts(targets, length).to(backend);
                nllSum += Functional.crossEntropy(logits, target, Gpt2Model.IGNORE_INDEX, Functional.Reduction.SUM).item();
                scored += w.end() + 1 - w.firstScored();
                if (progress != null) progress.accept(scored);
            }
        } finally {
            model.train(wasTraining);
        }
        return new Result(nllSum / scored, scored);
    }

    /**
     * The windows over a sequence of {@code n} tokens, as Hugging Face's guide cuts them: window k
     * starts at token {@code k * stride} and holds up to {@code context} tokens (the last one may be
     * shorter); it scores the predictions that no earlier window scored, so the first window scores
     * all of its predictions and each later one its last {@code stride} (or fewer, at the end).
     */
    static List<Window> windows(int n, int context, int stride) {
        if (stride < 1 || stride > context) {
            throw new IllegalArgumentException("evaluate: stride must be in [1, context length " + context + "], got " + stride);
        }
        List<Window> out = new ArrayList<>();
        int predictions = n - 1; // of tokens 1 .. n-1
        int scoredUpTo = 0;      // predictions of tokens 1 .. scoredUpTo are done
        for (int begin = 0; scoredUpTo < predictions; begin += stride) {
            int end = Math.min(begin + context, predictions);
            out.add(new Window(begin, end, scoredUpTo + 1));
            scoredUpTo = end;
        }
        return out;
    }

    private static void checkTokens(int[] tokens, Gpt2Config config) {
        if (tokens.length < 2) {
            throw new IllegalArgumentException("evaluate: need at least 2 tokens (one to predict from, one to predict), got "
                    + tokens.length);
        }
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("evaluate: token id " + tokens[i] + " at position " + i
                        + " is outside the model's vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }
}
