package io.github.grad4j.experiments.meta.maml;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetaComparisonTest {
    private static final String HEADER = "dataset,task,shot_mode,support_size,accuracy";

    private static Path run(Path dir, String name, double... accuracies) throws Exception {
        Path d = dir.resolve(name);
        Files.createDirectories(d);
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        String[] modes = {"CLASS_IMBALANCED", "TASK_IMBALANCED", "CLASS_IMBALANCED", "TASK_IMBALANCED"};
        for (int t = 0; t < accuracies.length; t++) {
            sb.append("omniglot,").append(t).append(',').append(modes[t % 4]).append(',').append(5 + t).append(',')
                    .append(accuracies[t]).append('\n');
        }
        Files.writeString(d.resolve("test_tasks.csv"), sb.toString());
        return d;
    }

    @Test
    void pairedDifferencesAndGroupsByShotMode(@TempDir Path dir) throws Exception {
        MetaComparison c = new MetaComparison()
                .add("maml", run(dir, "maml", 0.5, 0.6, 0.7, 0.8))
                .add("btaml", run(dir, "btaml", 0.6, 0.6, 0.9, 0.8));
        assertEquals(List.of("omniglot", "omniglot CLASS_IMBALANCED", "omniglot TASK_IMBALANCED"), c.groups());
        assertEquals(0.65, c.accuracy(0, "omniglot").meanAccuracy(), 1e-12);
        assertEquals(0.75, c.accuracy(1, "omniglot CLASS_IMBALANCED").meanAccuracy(), 1e-12);
        // differences (0.1, 0, 0.2, 0): mean 0.075, sample std 0.0957427
        MetaEvaluation.Summary d = c.pairedDifference(1, "omniglot");
        assertEquals(0.075, d.meanAccuracy(), 1e-12);
        assertEquals(1.96 * Math.sqrt(0.0275 / 3) / 2, d.ci95(), 1e-12);
        assertEquals(0.0, c.pairedDifference(1, "omniglot TASK_IMBALANCED").meanAccuracy(), 1e-12);

        c.write(dir.resolve("report"), "test");
        String md = Files.readString(dir.resolve("report/comparison.md"));
        assertTrue(md.matches("(?s).*\\| omniglot \\(4\\) +\\| 65.0 ± 12.7 +\\| 72.5 ± 14.7 \\(\\+7.5 ± 9.4\\).*"), md);
        assertTrue(md.contains("(+7.5 ± "), md);
        assertTrue(Files.size(dir.resolve("report/accuracy.png")) > 1000);
        assertEquals(1 + 3 * 2, Files.readAllLines(dir.resolve("report/comparison.csv")).size());
    }

    @Test
    void runsOnOtherTasksAreRefused(@TempDir Path dir) throws Exception {
        MetaComparison c = new MetaComparison().add("a", run(dir, "a", 0.5, 0.6, 0.7));
        IllegalArgumentException fewer = assertThrows(IllegalArgumentException.class, () -> c.add("b", run(dir, "b", 0.5, 0.6)));
        assertTrue(fewer.getMessage().contains("has 2 test tasks"), fewer.getMessage());
        Path other = run(dir, "c", 0.5, 0.6, 0.7);
        Files.writeString(other.resolve("test_tasks.csv"), Files.readString(other.resolve("test_tasks.csv")).replace(",6,", ",9,"));
        IllegalArgumentException differ = assertThrows(IllegalArgumentException.class, () -> c.add("c", other));
        assertTrue(differ.getMessage().contains("other test tasks"), differ.getMessage());
        Path bad = dir.resolve("bad");
        Files.createDirectories(bad);
        Files.writeString(bad.resolve("test_tasks.csv"), "a,b\n");
        assertThrows(IllegalArgumentException.class, () -> new MetaComparison().add("bad", bad));
        assertThrows(java.nio.file.NoSuchFileException.class, () -> new MetaComparison().add("none", dir.resolve("none")));
    }
}
