package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.optim.LrSchedule;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class Gpt2TrainerTest {
    /** Dropout on, so the resume test also covers restoring the dropout generator. */
    static final Gpt2Config CONFIG = new Gpt2Config(2, 2, 16, 8, 23).withDropout(0.1);

    /** A learnable corpus: a fixed random cycle of 11 tokens repeated, with a noisy token every 7th position. */
    static TokenDataset corpus(int length) {
        Rng rng = new Rng(3);
        int[] cycle = new int[11];
        for (int i = 0; i < cycle.length; i++) cycle[i] = rng.nextInt(CONFIG.vocabSize());
        int[] t = new int[length];
        for (int i = 0; i < length; i++) t[i] = i % 7 == 6 ? rng.nextInt(CONFIG.vocabSize()) : cycle[i % cycle.length];
        return new TokenDataset(t, "synthetic");
    }

    static Gpt2Trainer.Config config(int steps, Path out) {
        return Gpt2Trainer.Config.defaults(steps, 2, 8, 3e-3, out).withWarmupSteps(2).withEval(2, 2).withCheckpointInterval(3);
    }

    static Gpt2Trainer trainer(Gpt2Trainer.Config config, long initSeed) {
        TokenDataset[] parts = corpus(400).split(0.2);
        return new Gpt2Trainer(new Gpt2Model(CONFIG, new Rng(initSeed)), parts[0], parts[1], config).progressTo(null);
    }

    @Test
    void aResumedRunReproducesAnUninterruptedRunBitForBit(@TempDir Path tmp) throws IOException {
        Gpt2Trainer whole = trainer(config(6, tmp.resolve("whole")), 1);
        List<Gpt2Trainer.LogRow> expected = whole.train(false).log();

        Path split = tmp.resolve("split");
        trainer(config(6, split), 1).trainUntil(3, false);
        assertTrue(Files.isRegularFile(split.resolve(Gpt2Trainer.CHECKPOINT_FILE)));
        assertFalse(Files.exists(split.resolve(Gpt2Checkpoint.WEIGHTS_FILE)), "the final model is written only at the end");
        // another initialization: everything must come from the checkpoint
        Gpt2Trainer resumed = trainer(config(6, split), 99);
        List<Gpt2Trainer.LogRow> got = resumed.train(true).log();

        assertEquals(6, expected.size());
        assertEquals(6, got.size());
        for (int i = 0; i < 6; i++) {
            Gpt2Trainer.LogRow a = expected.get(i), b = got.get(i);
            assertEquals(i + 1, b.step());
            // JUnit compares doubles bit for bit (NaN, the steps without validation, equals NaN)
            assertEquals(a.trainLoss(), b.trainLoss(), "train loss of step " + (i + 1));
            assertEquals(a.validationLoss(), b.validationLoss(), "validation loss of step " + (i + 1));
            assertEquals(a.learningRate(), b.learningRate(), 0);
        }
        Map<String, Tensor> wantWeights = Gpt2ModelFiles.load(tmp.resolve("whole")).stateDict();
        Map<String, Tensor> gotWeights = Gpt2ModelFiles.load(split).stateDict();
        for (var e : wantWeights.entrySet()) {
            assertArrayEquals(e.getValue().toFloatArray(), gotWeights.get(e.getKey()).toFloatArray(), e.getKey());
        }
        // the comparison can fail: the losses change from step to step
        assertNotEquals(expected.get(0).trainLoss(), expected.get(5).trainLoss());
    }

    static final int STEPS = 120, EVAL = 30;

    @Test
    void trainingLearnsTheCorpusAndWritesLogPlotAndModel(@TempDir Path tmp) throws IOException {
        Gpt2Trainer.Config config = Gpt2Trainer.Config.defaults(STEPS, 4, 8, 1e-2, tmp).withWarmupSteps(4)
                .withEval(EVAL, 4).withCheckpointInterval(50);
        Gpt2Trainer trainer = trainer(config, 1);
        double before = trainer.validationLoss();
        Gpt2Trainer.Result result = trainer.train(false);
        double after = result.lastValidationLoss();
        // uniform guessing costs ln 23 = 3.14 nats; the cycle is predictable except the noisy 1 in 7
        // tokens (a floor near 0.45); 120 small steps get well on the way (1.93 nats with these seeds)
        assertTrue(before > 2.9, "untrained validation loss " + before);
        assertTrue(after < before - 1.0, "validation loss " + before + " -> " + after);

        List<String> lines = Files.readAllLines(tmp.resolve(Gpt2Trainer.LOG_FILE));
        assertEquals("step,train_loss,val_loss,lr,tokens_per_s,elapsed_s", lines.get(0));
        assertEquals(STEPS + 1, lines.size());
        for (int step = 1; step <= STEPS; step++) {
            String[] f = lines.get(step).split(",", -1);
            assertEquals(Integer.toString(step), f[0]);
            assertEquals(step % EVAL == 0, !f[2].isEmpty(), "validation only every " + EVAL + " steps: " + lines.get(step));
            // nanoGPT's schedule, decaying to min lr at the last step
            assertEquals(LrSchedule.warmupCosine(1e-2, 1e-3, 4, STEPS - 1).at(step - 1), Double.parseDouble(f[3]), 0);
            assertTrue(Double.parseDouble(f[4]) > 0);
        }
        assertEquals(1e-2 / 5, result.log().get(0).learningRate(), 1e-15);
        assertEquals(1e-3, result.log().get(STEPS - 1).learningRate(), 1e-15);
        assertTrue(Files.size(tmp.resolve(Gpt2Trainer.PLOT_FILE)) > 1000);

        // the folder is a Hugging Face model that computes what the trained model computes
        Gpt2Model loaded = Gpt2Checkpoint.load(tmp);
        Gpt2Model trained = Gpt2ModelFiles.load(tmp);
        Tensor ids = Tensor.ofInts(corpus(8).tokens(), 1, 8);
        assertArrayEquals(trained.logits(ids).toFloatArray(), loaded.logits(ids).toFloatArray());
    }

    @Test
    void aStoppedRunLoadsAsAModelFromItsCheckpoint(@TempDir Path tmp) throws IOException {
        Gpt2Trainer trainer = trainer(config(6, tmp), 1);
        trainer.trainUntil(3, false);
        Gpt2Model loaded = Gpt2ModelFiles.load(tmp);
        assertEquals(CONFIG, loaded.config());
        TokenDataset[] parts = corpus(400).split(0.2);
        // the same validation loss as the trainer's model at step 3
        double expected = trainer.validationLoss();
        Gpt2Trainer other = new Gpt2Trainer(loaded, parts[0], parts[1], config(6, tmp.resolve("x")));
        assertEquals(expected, other.validationLoss(), 0);
    }

    @Test
    void refusesToOverwriteOrToResumeADifferentRun(@TempDir Path tmp) throws IOException {
        trainer(config(6, tmp), 1).trainUntil(3, false);
        var e = assertThrows(IOException.class, () -> trainer(config(6, tmp), 1).train(false));
        assertTrue(e.getMessage().contains("already holds a training checkpoint"), e.getMessage());
        Gpt2Trainer.Config otherLr = Gpt2Trainer.Config.defaults(6, 2, 8, 1e-3, tmp).withWarmupSteps(2).withEval(2, 2);
        var m = assertThrows(IllegalArgumentException.class, () -> trainer(otherLr, 1).train(true));
        assertTrue(m.getMessage().contains("different run") && m.getMessage().contains("learning_rate"), m.getMessage());
        var none = assertThrows(IOException.class, () -> trainer(config(6, tmp.resolve("empty")), 1).train(true));
        assertTrue(none.getMessage().contains("no checkpoint to resume from"), none.getMessage());
    }

    @Test
    void rejectsDataTheModelCannotRead(@TempDir Path tmp) {
        TokenDataset tooShort = new TokenDataset(new int[]{1, 2, 3}, "short.txt");
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Gpt2Trainer(new Gpt2Model(CONFIG, new Rng(1)), corpus(100), tooShort, config(6, tmp)));
        assertTrue(e.getMessage().contains("short.txt: 3 tokens are too few for windows of 9 tokens"), e.getMessage());
        TokenDataset unknown = new TokenDataset(new int[]{1, 2, 3, 4, 5, 6, 7, 8, 50, 1}, "big.txt");
        e = assertThrows(IllegalArgumentException.class,
                () -> new Gpt2Trainer(new Gpt2Model(CONFIG, new Rng(1)), unknown, corpus(100), config(6, tmp)));
        assertTrue(e.getMessage().contains("big.txt: token id 50 at position 8 is outside the model's vocabulary [0, 23)"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Gpt2Trainer.Config.defaults(6, 2, 8, 1e-3, tmp).withWarmupSteps(6));
        assertTrue(e.getMessage().contains("warmup steps must be in [0, steps 6), got 6"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Gpt2Trainer(new Gpt2Model(CONFIG, new Rng(1)), corpus(100),
                corpus(100), Gpt2Trainer.Config.defaults(6, 2, 9, 1e-3, tmp)));
        assertTrue(e.getMessage().contains("context 9 exceeds the model's context length n_positions = 8"), e.getMessage());
    }
}
