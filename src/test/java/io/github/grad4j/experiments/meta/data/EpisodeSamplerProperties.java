package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class EpisodeSamplerProperties {

    private static final int[] CLASSES_PER_GROUP = {3, 5, 8, 12};

    /**
     * Alphabets with 3, 5, 8 and 12 classes. Every 2x2 image encodes its own identity (pixel 0 = class
     * id, pixel 1 = index within the class), so the tests can check where each episode image came from.
     *
     * @param varyImageCounts if true, class c has 16 + c % 10 images; otherwise every class has 20
     */
    private static ImageDataset identityDataset(boolean varyImageCounts) {
        List<ImageClass> classes = new ArrayList<>();
        int classId = 0;
        for (int group = 0; group < CLASSES_PER_GROUP.length; group++) {
            for (int c = 0; c < CLASSES_PER_GROUP[group]; c++, classId++) {
                int imageCount = varyImageCounts ? 16 + classId % 10 : 20;
                List<byte[]> images = new ArrayList<>();
                for (int i = 0; i < imageCount; i++) {
                    images.add(new byte[] {(byte) classId, (byte) i, 0, (byte) 255});
                }
                classes.add(new ImageClass("alphabet" + group, "character" + c, 0, images));
            }
        }
        return new ImageDataset("identity", 2, 2, classes);
    }

    private static int classIdOf(float[] image) {
        return Math.round(image[0] * 255);
    }

    private static int indexOf(float[] image) {
        return Math.round(image[1] * 255);
    }

    /** Checks everything that must hold for any episode, whatever the mode. */
    private static void assertWellFormed(ImageDataset dataset, EpisodeSpec spec, Episode episode) {
        int ways = spec.ways();
        assertEquals(ways, episode.ways());
        assertEquals(ways, episode.sourceClassIds().length);
        assertEquals(ways, episode.shotsPerClass().length);
        assertEquals(ways, new HashSet<>(boxed(episode.sourceClassIds())).size(), "classes must be distinct");

        int supportSize = 0;
        for (int shots : episode.shotsPerClass()) {
            supportSize += shots;
        }
        assertEquals(supportSize, episode.supportImages().length);
        assertEquals(supportSize, episode.supportLabels().length);
        assertEquals(ways * spec.queries(), episode.queryImages().length);
        assertEquals(ways * spec.queries(), episode.queryLabels().length);
        assertEquals(supportSize * 4, episode.flatSupport().length);

        int[] supportPerLabel = new int[ways];
        int[] queryPerLabel = new int[ways];
        List<Set<Integer>> supportIndices = new ArrayList<>();
        for (int c = 0; c < ways; c++) {
            supportIndices.add(new HashSet<>());
        }
        for (int s = 0; s < supportSize; s++) {
            int label = episode.supportLabels()[s];
            assertTrue(label >= 0 && label < ways, "support label " + label);
            supportPerLabel[label]++;
            float[] image = episode.supportImages()[s];
            assertEquals(episode.sourceClassIds()[label], classIdOf(image), "support image from wrong class");
            assertEquals(episode.supportImageIndices()[s], indexOf(image));
            assertTrue(supportIndices.get(label).add(indexOf(image)), "support image repeated");
        }
        for (int q = 0; q < episode.queryImages().length; q++) {
            int label = episode.queryLabels()[q];
            assertTrue(label >= 0 && label < ways, "query label " + label);
            queryPerLabel[label]++;
            float[] image = episode.queryImages()[q];
            assertEquals(episode.sourceClassIds()[label], classIdOf(image), "query image from wrong class");
            assertEquals(episode.queryImageIndices()[q], indexOf(image));
            // Disjointness: a query is never one of its class's support images (nor another query).
            assertTrue(supportIndices.get(label).add(indexOf(image)), "query overlaps support or repeats");
        }
        for (int c = 0; c < ways; c++) {
            assertEquals(episode.shotsPerClass()[c], supportPerLabel[c], "shots of label " + c);
            assertEquals(spec.queries(), queryPerLabel[c], "queries of label " + c);
            assertTrue(episode.shotsPerClass()[c] + spec.queries()
                    <= dataset.classAt(episode.sourceClassIds()[c]).imageCount());
        }
    }

    private static List<Integer> boxed(int[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }

    @Property(tries = 80)
    void fixedEpisodesHaveBalancedLabelsAndDisjointSets(@ForAll @IntRange(min = 1, max = 28) int ways,
                                                        @ForAll @IntRange(min = 1, max = 10) int shots,
                                                        @ForAll @IntRange(min = 0, max = 10) int queries,
                                                        @ForAll long seed) {
        ImageDataset dataset = identityDataset(false);
        EpisodeSpec spec = EpisodeSpec.fixed(ways, shots, queries);
        EpisodeSampler sampler = new EpisodeSampler(dataset, spec, seed);
        for (int e = 0; e < 3; e++) {
            Episode episode = sampler.next();
            assertWellFormed(dataset, spec, episode);
            assertEquals(ShotMode.FIXED, episode.drawnShotMode());
            for (int c = 0; c < ways; c++) {
                assertEquals(shots, episode.shotsPerClass()[c]);
                // Images are ordered class by class.
                for (int k = 0; k < shots; k++) {
                    assertEquals(c, episode.supportLabels()[c * shots + k]);
                }
            }
        }
    }

    @Property(tries = 60)
    void withinAlphabetEpisodesUseOneAlphabet(@ForAll @IntRange(min = 1, max = 12) int ways,
                                              @ForAll @IntRange(min = 1, max = 5) int shots,
                                              @ForAll long seed) {
        ImageDataset dataset = identityDataset(false);
        EpisodeSpec spec = EpisodeSpec.fixed(ways, shots, 5).withinGroup(true);
        EpisodeSampler sampler = new EpisodeSampler(dataset, spec, seed);
        for (int e = 0; e < 3; e++) {
            Episode episode = sampler.next();
            assertWellFormed(dataset, spec, episode);
            Set<String> groups = new HashSet<>();
            for (int id : episode.sourceClassIds()) {
                groups.add(dataset.classAt(id).group());
            }
            assertEquals(1, groups.size(), "alphabets " + groups);
        }
    }

    @Property(tries = 60)
    void sameSeedGivesIdenticalEpisodes(@ForAll @IntRange(min = 1, max = 8) int ways,
                                        @ForAll ShotMode mode,
                                        @ForAll boolean withinGroup,
                                        @ForAll long seed) {
        ImageDataset dataset = identityDataset(true);
        EpisodeSpec spec = new EpisodeSpec(ways, 5, 3, mode, withinGroup);
        EpisodeSampler first = new EpisodeSampler(dataset, spec, seed);
        EpisodeSampler second = new EpisodeSampler(dataset, spec, seed);
        for (int e = 0; e < 4; e++) {
            Episode a = first.next();
            Episode b = second.next();
            assertEquals(a, b);
            assertArrayEquals(a.flatSupport(), b.flatSupport());
            assertArrayEquals(a.flatQuery(), b.flatQuery());
        }
    }

    @Property(tries = 80)
    void anyShotCountsStayWithinBounds(@ForAll @IntRange(min = 1, max = 10) int ways,
                                       @ForAll @IntRange(min = 1, max = 50) int maxShots,
                                       @ForAll @IntRange(min = 0, max = 15) int queries,
                                       @ForAll ShotMode mode,
                                       @ForAll long seed) {
        Assume.that(mode != ShotMode.FIXED);
        ImageDataset dataset = identityDataset(true); // classes hold 16..25 images
        EpisodeSpec spec = new EpisodeSpec(ways, maxShots, queries, mode, false);
        EpisodeSampler sampler = new EpisodeSampler(dataset, spec, seed);
        for (int e = 0; e < 5; e++) {
            Episode episode = sampler.next();
            assertWellFormed(dataset, spec, episode);
            int smallestRoom = Integer.MAX_VALUE;
            for (int c = 0; c < ways; c++) {
                int room = dataset.classAt(episode.sourceClassIds()[c]).imageCount() - queries;
                smallestRoom = Math.min(smallestRoom, room);
                int shots = episode.shotsPerClass()[c];
                assertTrue(shots >= 1 && shots <= Math.min(maxShots, room),
                        "shots " + shots + " outside 1.." + Math.min(maxShots, room));
            }
            ShotMode drawn = episode.drawnShotMode();
            if (mode == ShotMode.ANY_SHOT) {
                assertTrue(drawn == ShotMode.CLASS_IMBALANCED || drawn == ShotMode.TASK_IMBALANCED);
            } else {
                assertEquals(mode, drawn);
            }
            if (drawn == ShotMode.TASK_IMBALANCED) {
                assertEquals(1, java.util.Arrays.stream(episode.shotsPerClass()).distinct().count());
                assertTrue(episode.shotsPerClass()[0] <= smallestRoom);
            }
        }
    }

    @Test
    void anyShotDrawsBothImbalanceKindsAndVariesShotCounts() {
        ImageDataset dataset = identityDataset(false);
        EpisodeSampler sampler = new EpisodeSampler(dataset, EpisodeSpec.anyShot(5, 15, 5), 42L);
        Set<ShotMode> drawn = EnumSet.noneOf(ShotMode.class);
        Set<Integer> classImbalancedDistinctCounts = new HashSet<>();
        for (int e = 0; e < 200; e++) {
            Episode episode = sampler.next();
            drawn.add(episode.drawnShotMode());
            if (episode.drawnShotMode() == ShotMode.CLASS_IMBALANCED) {
                classImbalancedDistinctCounts.add(
                        (int) java.util.Arrays.stream(episode.shotsPerClass()).distinct().count());
            }
        }
        assertEquals(EnumSet.of(ShotMode.CLASS_IMBALANCED, ShotMode.TASK_IMBALANCED), drawn);
        assertTrue(classImbalancedDistinctCounts.stream().anyMatch(n -> n > 1),
                "class-imbalanced episodes never had differing shot counts");
    }

    @Test
    void differentSeedsGiveDifferentEpisodeSequences() {
        ImageDataset dataset = identityDataset(false);
        EpisodeSpec spec = EpisodeSpec.fixed(5, 1, 5);
        assertNotEquals(new EpisodeSampler(dataset, spec, 1L).next(), new EpisodeSampler(dataset, spec, 2L).next());
    }

    @Test
    void tooManyWaysNamesBothNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EpisodeSampler(identityDataset(false), EpisodeSpec.fixed(29, 1, 1), 0L));
        assertTrue(e.getMessage().contains("29") && e.getMessage().contains("28"), e.getMessage());
    }

    @Test
    void tooManyShotsPlusQueriesNamesTheNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EpisodeSampler(identityDataset(false), EpisodeSpec.fixed(5, 6, 15), 0L));
        assertTrue(e.getMessage().contains("21") && e.getMessage().contains("only 20"), e.getMessage());
        // Any-shot needs at least one shot besides the queries.
        assertThrows(IllegalArgumentException.class,
                () -> new EpisodeSampler(identityDataset(false), EpisodeSpec.anyShot(5, 50, 20), 0L));
    }

    @Test
    void withinAlphabetNeedsAnAlphabetWithEnoughClasses() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EpisodeSampler(identityDataset(false), EpisodeSpec.fixed(13, 1, 1).withinGroup(true), 0L));
        assertTrue(e.getMessage().contains("13") && e.getMessage().contains("only 12"), e.getMessage());
    }

    @Test
    void invalidSpecsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> EpisodeSpec.fixed(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> EpisodeSpec.fixed(5, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> EpisodeSpec.fixed(5, 1, -1));
    }
}
