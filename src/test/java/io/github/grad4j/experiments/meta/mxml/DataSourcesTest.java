package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.FewShotEvaluator;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataSourcesTest {

    /** Disjoint image ranges of the same classes share no image (the fashion validation source relies on it). */
    @Test
    void imageRangesOfTheSameClassesAreDisjoint() {
        ImageDataset data = SyntheticSources.halves("left", true, 3, 10, 8, 1);
        ImageDataset head = DataSources.imageRange(data, 0, 4, "head");
        ImageDataset tail = DataSources.imageRange(data, 4, 100, "tail");
        assertEquals("head", head.name());
        assertEquals(data.classCount(), head.classCount());
        for (int c = 0; c < data.classCount(); c++) {
            assertEquals(4, head.classAt(c).imageCount());
            assertEquals(6, tail.classAt(c).imageCount(), "a range past the end keeps what the class has");
            assertEquals(data.classAt(c).name(), tail.classAt(c).name());
            for (int i = 0; i < 4; i++) assertEquals(data.classAt(c).encodedImages().get(i), head.classAt(c).encodedImages().get(i));
            for (int i = 0; i < 6; i++) assertEquals(data.classAt(c).encodedImages().get(4 + i), tail.classAt(c).encodedImages().get(i));
        }
        assertEquals(4, DataSources.firstImages(data, 4).classAt(0).imageCount());
    }

    @Test
    void emptyOrOutOfRangeSelectionsAreRefused() {
        ImageDataset data = SyntheticSources.halves("left", true, 2, 5, 8, 1);
        assertThrows(IllegalArgumentException.class, () -> DataSources.imageRange(data, 3, 3, "x"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DataSources.imageRange(data, 5, 9, "x"));
        assertTrue(e.getMessage().contains("has 5 images"), e.getMessage());
    }

    /** The paired interval against a hand computation: d = (0.1, 0, 0.4), mean 1/6, sample std 0.20817. */
    @Test
    void pairedDifferenceMatchesAHandComputation() {
        MxmlEvaluation.Result r = new MxmlEvaluation.Result(Map.of(
                "a", FewShotEvaluator.summarize(new double[]{1.0, 0.5, 0.8}),
                "b", FewShotEvaluator.summarize(new double[]{0.9, 0.5, 0.4})), Map.of());
        FewShotEvaluator.Accuracy d = r.pairedDifference("a", "b");
        assertEquals(1.0 / 6, d.mean(), 1e-12);
        assertEquals(Math.sqrt(0.13 / 3), d.std(), 1e-12); // squared deviations sum to 0.08667, over n - 1 = 2
        assertEquals(1.96 * Math.sqrt(0.13 / 3) / Math.sqrt(3), d.ci95(), 1e-12);
    }
}
