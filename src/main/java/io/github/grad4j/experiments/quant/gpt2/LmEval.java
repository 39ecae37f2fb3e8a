package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Language-model evaluation on a fixed set of evenly spaced windows
 * ({@link TokenDataset#window}), so every model is scored on the same tokens.
 */
public final class LmEval {
    private LmEval() {
    }

    /** Where and how much to evaluate. */
    public record Windows(int count, int batch, int context) {
        public Windows {
            if (count < 1 || batch < 1 || context < 1) {
                throw new IllegalArgumentException("evaluation windows: count, batch and context must be >= 1, got "
                        + count + ", " + batch + ", " + context);
            }
        }
    }

    /**
     * Mean next-token cross-entropy (nats) of {@code loss(ids, targets)} (a mean per batch) over
     * the windows; all batches have the same size, so the mean of means is the token mean.
     */
    public static double meanLoss(BiFunction<Tensor, Tensor, Tensor> loss, TokenDataset data, Windows w) {
        double sum = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int i = 0; i < w.count(); i++) {
                TokenDataset.Batch b = data.window(i, w.count(), w.batch(), w.context());
                sum += loss.apply(b.inputs(), b.targets()).item();
            }
        }
        return sum / w.count();
    }

    /** exp(mean cross-entropy). */
    public static double perplexity(BiFunction<Tensor, Tensor, Tensor> loss, TokenDataset data, Windows w) {
        return Math.exp(meanLoss(loss, data, w));
    }
}
