package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.gpt2.Gpt2Checkpoint;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.optim.GradClip;
import io.github.grad4j.optim.LrSchedule;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.io.PrintStream;
import java.util.Map;

/**
 * A minimal AdamW pre-training loop for the small GPT-2 the quantization experiments need when no
 * trained model is given (the project's general trainer lives elsewhere). nanoGPT's recipe:
 * warmup then cosine decay, betas (0.9, 0.95), weight decay 0.1 on matrices only, gradient-norm
 * clip 1.
 */
public final class SmallGpt2 {
    private SmallGpt2() {
    }

    /** What to pre-train. */
    public record Recipe(int steps, int batch, int context, double lr) {
    }

    /** Trains {@code model} in place on random windows of {@code data}; returns the loss of every step. */
    public static double[] pretrain(Gpt2Model model, TokenDataset data, Recipe r, Rng rng, PrintStream log) {
        Map<String, Tensor> params = model.namedParameters();
        Optimizer opt = new AdamW(params, r.lr(), 0.9, 0.95, 1e-8, 0.1).setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
        LrSchedule schedule = LrSchedule.warmupCosine(r.lr(), r.lr() / 10, Math.max(1, r.steps() / 20), Math.max(2, r.steps()));
        model.train(true);
        double[] losses = new double[r.steps()];
        long start = System.nanoTime();
        for (int step = 0; step < r.steps(); step++) {
            opt.setLearningRate(schedule.at(step));
            opt.zeroGrad();
            TokenDataset.Batch b = data.sample(rng, r.batch(), r.context());
            Tensor loss = QuantizedGpt2.lmLoss(model, b.inputs(), b.targets());
            losses[step] = loss.item();
            if (!Double.isFinite(losses[step])) throw new IllegalStateException("pre-training diverged at step " + step);
            loss.backward();
            GradClip.clipGradNorm(params.values(), 1.0);
            opt.step();
            if (log != null && (step % Math.max(1, r.steps() / 10) == 0 || step == r.steps() - 1)) {
                log.printf("  pretrain step %d/%d loss %.3f (%.1f s)%n", step + 1, r.steps(), losses[step],
                        (System.nanoTime() - start) / 1e9);
            }
        }
        model.eval();
        return losses;
    }

    /** A fresh copy of {@code model} (same config, dtype and values), for runs that must not share weights. */
    public static Gpt2Model copy(Gpt2Model model) {
        Gpt2Model c = new Gpt2Model(model.config(), new Rng(0), model.dtype());
        c.loadStateDict(model.stateDict(), true);
        c.eval();
        return c;
    }

    /** Saves the model (HF layout) and its compact vocabulary. */
    public static void save(Gpt2Model model, CompactVocab vocab, java.nio.file.Path dir) throws java.io.IOException {
        Gpt2Checkpoint.save(model, dir);
        if (vocab != null) vocab.save(dir);
    }

    /** Unused config helper kept close to the recipe: the small architecture used by the experiments. */
    public static Gpt2Config config(int layers, int width, int heads, int context, int vocab) {
        return new Gpt2Config(layers, heads, width, context, vocab);
    }
}
