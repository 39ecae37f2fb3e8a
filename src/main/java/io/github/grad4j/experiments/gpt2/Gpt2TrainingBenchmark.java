package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.tensor.Rng;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Training throughput of {@link Gpt2Trainer} on the default backend: the real training step
 * (sample, forward, backward, clip, AdamW) on uniformly random tokens, so no data files are needed
 * and the figure depends only on the shapes. The first {@code warmUpSteps} steps (JIT compilation,
 * first allocations) are left out; the figure is the median step time of the rest. Validation,
 * checkpoints and the final files are outside the timed steps.
 */
public final class Gpt2TrainingBenchmark {
    private Gpt2TrainingBenchmark() {
    }

    /**
     * @return e.g. {@code gpt2 train on reference: 2 layers, 2 heads, width 64, context 64, vocab 50257
     * (3320640 parameters), batch 8: 512 tokens/step, median step 28.1 s = 18.2 tokens/s (18 steps after 2 warm-up)}
     */
    public static String run(Gpt2Config config, int batchSize, int steps, int warmUpSteps) throws IOException {
        if (warmUpSteps < 0 || steps <= warmUpSteps) {
            throw new IllegalArgumentException("benchmark: need 0 <= warm-up steps < steps, got " + warmUpSteps + " and " + steps);
        }
        int context = config.nPositions();
        Rng tokenRng = new Rng(7);
        int[] tokens = new int[Math.max(4 * (context + 1), 4096)];
        for (int i = 0; i < tokens.length; i++) tokens[i] = tokenRng.nextInt(config.vocabSize());
        TokenDataset data = new TokenDataset(tokens, "random tokens");
        Gpt2Model model = new Gpt2Model(config, new Rng(1));
        Path dir = Files.createTempDirectory("grad4j-gpt2-bench");
        try {
            Gpt2Trainer.Config tc = Gpt2Trainer.Config.defaults(steps, batchSize, context, 1e-3, dir)
                    .withWarmupSteps(0).withEval(steps, 1).withCheckpointInterval(steps);
            List<Gpt2Trainer.LogRow> log = new Gpt2Trainer(model, data, data, tc).progressTo(null).train(false).log();
            int tokensPerStep = batchSize * context;
            double[] seconds = log.stream().skip(warmUpSteps).mapToDouble(r -> tokensPerStep / r.tokensPerSecond()).sorted().toArray();
            double median = seconds.length % 2 == 1 ? seconds[seconds.length / 2]
                    : (seconds[seconds.length / 2 - 1] + seconds[seconds.length / 2]) / 2;
            return String.format(Locale.ROOT, "gpt2 train on %s: %d layers, %d heads, width %d, context %d, vocab %d "
                            + "(%d parameters), batch %d: %d tokens/step, median step %.3f s = %.1f tokens/s "
                            + "(%d steps after %d warm-up; fastest %.3f s, slowest %.3f s)",
                    model.parameters().get(0).backend().name(), config.nLayer(), config.nHead(), config.nEmbd(), context,
                    config.vocabSize(), model.parameterCount(), batchSize, tokensPerStep, median, tokensPerStep / median,
                    seconds.length, warmUpSteps, seconds[0], seconds[seconds.length - 1]);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }
}
