package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.gpt2.Gpt2Block;
import io.github.grad4j.experiments.gpt2.TokenDataset;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.GradClip;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loops of quantization-aware training: end-to-end on the language-model loss
 * (ranges only, ranges and weights, optionally adapters), and Quadapter's block-wise calibration.
 * Adam for every group; the range/adapter learning rate and the weight learning rate are separate
 * because their parameters live on very different scales.
 */
public final class QatTraining {
    private QatTraining() {
    }

    /**
     * @param steps    optimizer steps
     * @param batch    sequences per step
     * @param context  tokens per sequence
     * @param lr       learning rate of range parameters and adapter scales
     * @param weightLr learning rate of the GPT-2 weights (full QAT only)
     * @param clip     global gradient-norm clip (0 or less: none)
     */
    public record Settings(int steps, int batch, int context, double lr, double weightLr, double clip) {
        public Settings {
            if (steps < 0 || batch < 1 || context < 1) {
                throw new IllegalArgumentException("training: steps >= 0, batch >= 1 and context >= 1 required, got "
                        + steps + ", " + batch + ", " + context);
            }
            if (!(lr >= 0) || !(weightLr >= 0)) {
                throw new IllegalArgumentException("training: learning rates must be >= 0, got lr " + lr + ", weight lr " + weightLr);
            }
        }

        public Settings withSteps(int n) {
            return new Settings(n, batch, context, lr, weightLr, clip);
        }

        public Settings withLr(double v) {
            return new Settings(steps, batch, context, v, weightLr, clip);
        }
    }

    /** The loss of every step, whether it diverged (a non-finite loss or gradient; training stops there), the time. */
    public record Log(double[] losses, boolean diverged, double seconds) {
        public double lastLoss() {
            return losses.length == 0 ? Double.NaN : losses[losses.length - 1];
        }
    }

    /**
     * Trains on next-token prediction over random windows of {@code data}: the range parameters
     * always, the adapter scales when {@code adapters}, and the GPT-2 weights when {@code mode} is
     * FULL (with RANGES they get no gradient at all). PTQ trains nothing and returns an empty log.
     */
    public static Log train(QuantizedGpt2 q, QuantMode mode, boolean adapters, TokenDataset data, Settings s, Rng rng) {
        if (!q.isCalibrated()) throw new IllegalStateException("QAT: calibrate the quantizers before training");
        if (mode == QuantMode.PTQ || s.steps() == 0) return new Log(new double[0], false, 0);
        Map<String, Tensor> small = new LinkedHashMap<>(q.rangeParameters());
        if (adapters) small.putAll(q.adapterParameters());
        List<Optimizer> optimizers = new ArrayList<>();
        optimizers.add(new Adam(small, s.lr()));
        if (mode == QuantMode.FULL) optimizers.add(new Adam(q.modelParameters(), s.weightLr()));
        q.setModelTrainable(mode == QuantMode.FULL);
        try {
            return loop(optimizers, s, () -> {
                TokenDataset.Batch b = data.sample(rng, s.batch(), s.context());
                return q.loss(b.inputs(), b.targets());
            });
        } finally {
            q.setModelTrainable(true);
        }
    }

    /**
     * Quadapter phase 1: each block on its own, minimizing the mean squared difference between the
     * full-precision block's output and the quantized block's output on the same full-precision
     * inputs (taken from the full-precision model on random windows of {@code data}). Only that
     * block's range parameters and adapter scales train; every GPT-2 weight is frozen. Returns one
     * log per block.
     */
    public static List<Log> calibrateBlocks(QuantizedGpt2 q, TokenDataset data, Settings s, Rng rng) {
        if (!q.isCalibrated()) throw new IllegalStateException("block calibration: calibrate the quantizers first");
        List<Log> logs = new ArrayList<>();
        List<Gpt2Block> blocks = q.model().blocks();
        q.setModelTrainable(false);
        try {
            for (int i = 0; i < blocks.size(); i++) {
                final int block = i;
                Map<String, Tensor> params = new LinkedHashMap<>();
                for (Map.Entry<String, Tensor> e : q.rangeParameters().entrySet()) if (inBlock(e.getKey(), block)) params.put(e.getKey(), e.getValue());
                for (Map.Entry<String, Tensor> e : q.adapterParameters().entrySet()) if (inBlock(e.getKey(), block)) params.put(e.getKey(), e.getValue());
                logs.add(loop(List.of(new Adam(params, s.lr())), s, () -> {
                    TokenDataset.Batch b = data.sample(rng, s.batch(), s.context());
                    Tensor input, target;
                    q.setQuantizationEnabled(false);
                    try (GradMode.Scope ignored = GradMode.noGrad()) {
                        Tensor x = q.model().embed(b.inputs());
                        for (int j = 0; j < block; j++) x = blocks.get(j).forward(x);
                        input = x.detach();
                        target = blocks.get(block).forward(input).detach();
                    } finally {
                        q.setQuantizationEnabled(true);
                    }
                    // sum of (squared error / count) rather than mean(): see QuantizedGpt2.lmLoss on rank-0 ops
                    return blocks.get(block).forward(input).sub(target).square().mul(1.0 / target.numel()).sum();
                }));
            }
        } finally {
            q.setModelTrainable(true);
        }
        return logs;
    }

    private static boolean inBlock(String name, int block) {
        return name.startsWith("sites.h." + block + ".");
    }

    private static Log loop(List<Optimizer> optimizers, Settings s, java.util.function.Supplier<Tensor> lossOfNextBatch) {
        long start = System.nanoTime();
        double[] losses = new double[s.steps()];
        List<Tensor> all = new ArrayList<>();
        for (Optimizer o : optimizers) all.addAll(o.parameters().values());
        for (int step = 0; step < s.steps(); step++) {
            for (Optimizer o : optimizers) o.zeroGrad();
            Tensor loss = lossOfNextBatch.get();
            double value = loss.item();
            losses[step] = value;
            if (!Double.isFinite(value)) return diverged(losses, step, start);
            loss.backward();
            double norm = s.clip() > 0 ? GradClip.clipGradNorm(all, s.clip()) : GradClip.totalNorm(all);
            if (!Double.isFinite(norm)) return diverged(losses, step, start);
            for (Optimizer o : optimizers) o.step();
        }
        return new Log(losses, false, (System.nanoTime() - start) / 1e9);
    }

    private static Log diverged(double[] losses, int step, long start) {
        return new Log(java.util.Arrays.copyOf(losses, step + 1), true, (System.nanoTime() - start) / 1e9);
    }
}
