package io.github.grad4j.experiments.meta.maml;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BalancingLogTest {

    @Test
    void rankCorrelationsFollowTheTrends(@TempDir Path dir) throws Exception {
        BalancingLog log = new BalancingLog();
        // layer 0 grows with the task size (not linearly: ranks only), layer 1 shrinks, layer 2 is constant
        int[] sizes = {5, 9, 14, 20, 25};
        for (int t = 0; t < sizes.length; t++) {
            log.gamma("omniglot", t, "TASK_IMBALANCED", sizes[t], 0, Math.exp(0.01 * sizes[t] * sizes[t]));
            log.gamma("omniglot", t, "TASK_IMBALANCED", sizes[t], 1, 2.0 - 0.03 * sizes[t]);
            log.gamma("omniglot", t, "TASK_IMBALANCED", sizes[t], 2, 1.0);
        }
        // small classes weigh more: softmax(omega) falls with the shots
        for (int k = 0; k < 5; k++) log.omega("omniglot", 0, "CLASS_IMBALANCED", k, k + 1, 0.3 - 0.02 * k);
        assertEquals(1.0, log.gammaSizeCorrelation("omniglot").get(0), 1e-12);
        assertEquals(-1.0, log.gammaSizeCorrelation("omniglot").get(1), 1e-12);
        assertTrue(Double.isNaN(log.gammaSizeCorrelation("omniglot").get(2)), "a constant layer has no rank correlation");
        assertEquals(-1.0, log.omegaShotCorrelation("omniglot").get("CLASS_IMBALANCED"), 1e-12);

        log.write(dir);
        assertEquals(1 + 15, Files.readAllLines(dir.resolve("gamma_by_task_size.csv")).size());
        assertEquals(1 + 5, Files.readAllLines(dir.resolve("omega_by_class_size.csv")).size());
        assertTrue(Files.size(dir.resolve("gamma-omniglot.png")) > 1000);
        assertTrue(Files.size(dir.resolve("omega-omniglot.png")) > 1000);

        // read back from the CSVs: the same values, so the same correlations, and plots under a prefix
        BalancingLog again = BalancingLog.read(dir);
        assertEquals(log.gammaSizeCorrelation("omniglot"), again.gammaSizeCorrelation("omniglot"));
        assertEquals(log.omegaShotCorrelation("omniglot"), again.omegaShotCorrelation("omniglot"));
        again.writePlots(dir, "run1-");
        assertTrue(Files.exists(dir.resolve("run1-gamma-omniglot.png")));
        Files.writeString(dir.resolve("gamma_by_task_size.csv"), "wrong,header\n");
        assertThrows(IllegalArgumentException.class, () -> BalancingLog.read(dir));
    }

    @Test
    void nothingRecordedWritesNothing(@TempDir Path dir) throws Exception {
        BalancingLog log = new BalancingLog();
        assertTrue(log.isEmpty());
        log.write(dir);
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count());
        }
    }
}
