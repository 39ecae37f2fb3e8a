package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ClassSplitsTest {

    /** Groups g0..g3 with 4 characters each, optionally with rotated copies. */
    private static ImageDataset dataset(boolean withRotations) {
        List<ImageClass> classes = new ArrayList<>();
        for (int g = 0; g < 4; g++) {
            for (int c = 0; c < 4; c++) {
                for (int degrees : withRotations ? new int[] {0, 90, 180, 270} : new int[] {0}) {
                    classes.add(new ImageClass("g" + g, "c" + c, degrees, List.of(new byte[] {0})));
                }
            }
        }
        return new ImageDataset("toy", 1, 1, classes);
    }

    private static Set<String> names(ImageDataset dataset) {
        Set<String> names = new HashSet<>();
        dataset.classes().forEach(c -> names.add(c.displayName()));
        return names;
    }

    private static void assertPartition(ImageDataset all, ClassSplits.Split split) {
        Set<String> union = new HashSet<>();
        for (ImageDataset part : List.of(split.train(), split.validation(), split.test())) {
            for (String name : names(part)) {
                assertTrue(union.add(name), name + " is in two splits");
            }
        }
        assertEquals(names(all), union);
    }

    @Test
    void classSplitIsSeededDisjointAndComplete() {
        ImageDataset all = dataset(false);
        ClassSplits.Split split = ClassSplits.byClass(all, 10, 2, 7L);
        assertEquals(10, split.train().classCount());
        assertEquals(2, split.validation().classCount());
        assertEquals(4, split.test().classCount());
        assertPartition(all, split);
        assertEquals(names(split.train()), names(ClassSplits.byClass(all, 10, 2, 7L).train()));
    }

    @Test
    void rotationsOfACharacterStayInOneSplit() {
        ImageDataset all = dataset(true);
        ClassSplits.Split split = ClassSplits.byClass(all, 10, 2, 3L);
        assertEquals(40, split.train().classCount());
        assertPartition(all, split);
        for (ImageDataset part : List.of(split.train(), split.validation(), split.test())) {
            Set<String> characters = new HashSet<>();
            part.classes().forEach(c -> characters.add(c.characterKey()));
            assertEquals(characters.size() * 4, part.classCount(), "a character is missing rotations");
        }
    }

    @Test
    void groupSplitsKeepAlphabetsWhole() {
        ImageDataset all = dataset(false);
        ClassSplits.Split named = ClassSplits.byGroup(all, List.of("g2", "g0"), List.of("g1"), List.of("g3"));
        assertEquals(Set.of("g0", "g2"), new HashSet<>(named.train().groups()));
        assertEquals(List.of("g3"), named.test().groups());
        assertPartition(all, named);

        ClassSplits.Split random = ClassSplits.byGroup(all, 2, 1, 11L);
        assertEquals(2, random.train().groups().size());
        assertEquals(1, random.validation().groups().size());
        assertEquals(1, random.test().groups().size());
        assertPartition(all, random);
    }

    @Test
    void impossibleSplitsAreRejected() {
        ImageDataset all = dataset(false);
        IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                () -> ClassSplits.byClass(all, 15, 2, 0L));
        assertTrue(tooMany.getMessage().contains("16"), tooMany.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ClassSplits.byGroup(all, List.of("g0", "g1"), List.of("g2"), List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> ClassSplits.byGroup(all, List.of("g0", "g1"), List.of("g2", "g0"), List.of("g3")));
        assertThrows(IllegalArgumentException.class,
                () -> ClassSplits.byGroup(all, List.of("g0", "g1"), List.of("g2"), List.of("g3", "nope")));
    }
}
