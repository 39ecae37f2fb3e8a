package io.github.grad4j.optim;

import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainingCheckpointTest {
    private static final LrSchedule SCHEDULE = LrSchedule.warmupCosine(0.02, 0.002, 2, 12);

    @TempDir
    Path dir;

    /** Everything a run owns; each source of randomness is its own generator. */
    private static final class Run {
        final ToyTraining.Data data = ToyTraining.twoMoons(40, 0.1, new Rng(99));
        final Rng dataRng;
        final Rng dropoutRng;
        final Sequential model;
        final AdamW optimizer;

        Run(long seed, int hidden) {
            dataRng = new Rng(seed + 1);
            dropoutRng = new Rng(seed + 2);
            model = ToyTraining.mlpWithDropout(hidden, new Rng(seed), dropoutRng);
            optimizer = new AdamW(model.namedParameters(), 0.02, 0.9, 0.95, 1e-8, 0.1);
            optimizer.setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
        }

        Map<String, Rng> generators() {
            return Map.of("data", dataRng, "dropout", dropoutRng);
        }

        double[] train(long fromStep, int steps) {
            double[] losses = new double[steps];
            for (int s = 0; s < steps; s++) {
                optimizer.setLearningRate(SCHEDULE.at(fromStep + s));
                losses[s] = ToyTraining.step(model, optimizer, data, 16, dataRng);
            }
            return losses;
        }

        /** Every value this run would resume from, to check that failed loads change nothing. */
        Map<String, double[]> snapshot() {
            Map<String, double[]> out = new LinkedHashMap<>();
            model.stateDict().forEach((k, v) -> out.put(k, v.toDoubleArray()));
            optimizer.stateDict().forEach((k, v) -> out.put("optim." + k, v.toDoubleArray()));
            out.put("rng", new double[]{dataRng.seed(), dataRng.counter(), dropoutRng.seed(), dropoutRng.counter()});
            return out;
        }
    }

    private static void assertSameSnapshot(Map<String, double[]> expected, Map<String, double[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) assertArrayEquals(expected.get(k), actual.get(k), 0.0, k);
    }

    private Path savedAfterThreeSteps(Run run) throws IOException {
        run.train(0, 3);
        Path file = dir.resolve("ckpt.safetensors");
        TrainingCheckpoint.save(file, run.model, run.optimizer, 3, run.generators(), Map.of("config", "{\"hidden\":16}"));
        return file;
    }

    @Test
    void resumingFromACheckpointContinuesBitForBit() throws IOException {
        Run original = new Run(1, 16);
        Path file = savedAfterThreeSteps(original);
        double[] continued = original.train(3, 5);

        Run resumed = new Run(500, 16); // different seeds: everything must come from the file
        TrainingCheckpoint.Restored restored = TrainingCheckpoint.load(file, resumed.model, resumed.optimizer, resumed.generators());
        assertEquals(3, restored.step());
        assertEquals(Map.of("config", "{\"hidden\":16}"), restored.metadata());
        double[] again = resumed.train(restored.step(), 5);
        assertArrayEquals(continued, again, 0.0);
        assertSameSnapshot(original.snapshot(), resumed.snapshot());
    }

    @Test
    void theFileIsOneSafetensorsFileWithModelOptimizerAndMetadata() throws IOException {
        Path file = savedAfterThreeSteps(new Run(1, 16));
        SafeTensors.Contents c = SafeTensors.read(file, io.github.grad4j.tensor.Backends.defaultBackend());
        assertTrue(c.tensors().containsKey("0.weight") && c.tensors().containsKey("3.bias"));
        assertTrue(c.tensors().containsKey("optim.0.weight.exp_avg_sq") && c.tensors().containsKey("optim.step"));
        assertEquals("3", c.metadata().get("grad4j.step"));
        assertEquals("2", c.metadata().get("grad4j.rng.data.seed")); // Run(1) seeds its data generator with 1 + 1
        assertEquals("{\"hidden\":16}", c.metadata().get("config"));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary files left behind");
        }
    }

    @Test
    void truncatedFileIsRejectedNamingTheFileAndChangesNothing() throws IOException {
        Path file = savedAfterThreeSteps(new Run(1, 16));
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        Run target = new Run(7, 16);
        target.train(0, 1);
        Map<String, double[]> before = target.snapshot();
        IOException e = assertThrows(IOException.class,
                () -> TrainingCheckpoint.load(truncated, target.model, target.optimizer, target.generators()));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());
        assertSameSnapshot(before, target.snapshot());
    }

    @Test
    void wrongShapesAreRejectedNamingFileAndTensorsAndChangeNothing() throws IOException {
        Path file = savedAfterThreeSteps(new Run(1, 16));
        Run target = new Run(7, 8);
        Map<String, double[]> before = target.snapshot();
        var e = assertThrows(TrainingCheckpoint.MismatchException.class,
                () -> TrainingCheckpoint.load(file, target.model, target.optimizer, target.generators()));
        String m = e.getMessage();
        assertTrue(m.contains(file.toString()), m);
        assertTrue(m.contains("tensor '0.weight' is FLOAT32 [16, 2] in the file but FLOAT32 [8, 2] in the model"), m);
        assertTrue(m.contains("'optim.0.weight.exp_avg'"), m);
        assertSameSnapshot(before, target.snapshot());
    }

    @Test
    void missingTensorIsRejectedNamingIt() throws IOException {
        Run source = new Run(1, 16);
        Path full = savedAfterThreeSteps(source);
        SafeTensors.Contents c = SafeTensors.read(full, io.github.grad4j.tensor.Backends.defaultBackend());
        Map<String, Tensor> tensors = new LinkedHashMap<>(c.tensors());
        tensors.remove("3.bias");
        Path file = dir.resolve("missing.safetensors");
        SafeTensors.save(file, tensors, c.metadata());
        Run target = new Run(7, 16);
        Map<String, double[]> before = target.snapshot();
        var e = assertThrows(TrainingCheckpoint.MismatchException.class,
                () -> TrainingCheckpoint.load(file, target.model, target.optimizer, target.generators()));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("missing tensor '3.bias'"), e.getMessage());
        assertSameSnapshot(before, target.snapshot());
    }

    @Test
    void missingGeneratorStateIsRejected() throws IOException {
        Path file = savedAfterThreeSteps(new Run(1, 16));
        Run target = new Run(7, 16);
        Map<String, Rng> generators = new LinkedHashMap<>(target.generators());
        generators.put("augmentation", new Rng(3));
        var e = assertThrows(TrainingCheckpoint.MismatchException.class,
                () -> TrainingCheckpoint.load(file, target.model, target.optimizer, generators));
        assertTrue(e.getMessage().contains("grad4j.rng.augmentation.seed"), e.getMessage());
    }

    @Test
    void reservedMetadataKeysAreRefused() {
        Run run = new Run(1, 16);
        assertThrows(IllegalArgumentException.class, () -> TrainingCheckpoint.save(dir.resolve("x.safetensors"), run.model,
                run.optimizer, 0, run.generators(), Map.of("grad4j.step", "5")));
    }

    @Test
    void loadingWithoutAnOptimizerRestoresTheModelOnly() throws IOException {
        Run source = new Run(1, 16);
        Path file = savedAfterThreeSteps(source);
        Run target = new Run(7, 16);
        TrainingCheckpoint.load(file, target.model, null, Map.of());
        for (Map.Entry<String, Tensor> e : source.model.stateDict().entrySet()) {
            assertArrayEquals(e.getValue().toDoubleArray(), target.model.stateDict().get(e.getKey()).toDoubleArray(), 0.0);
        }
        assertEquals(0, target.optimizer.stepCount());
    }
}
