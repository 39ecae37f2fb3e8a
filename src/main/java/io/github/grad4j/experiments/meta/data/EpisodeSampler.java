package io.github.grad4j.experiments.meta.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Draws few-shot episodes from an {@link ImageDataset}: N classes (optionally all from one
 * alphabet), per class some support images and Q query images, disjoint, without replacement.
 *
 * <p>Reproducible: all randomness comes from one {@link SplittableRandom} seeded explicitly, so two
 * samplers with the same dataset, spec and seed produce identical episode sequences. A sampler is
 * not thread-safe; give each thread its own (e.g. seeds {@code seed + threadIndex}).
 *
 * <p>Within-alphabet episodes first pick an alphabet uniformly among those with at least N classes,
 * then N of its classes. Support and query images are ordered class by class.
 *
 * <p>Impossible requests fail at construction, not at the first episode: N larger than the classes
 * (or, within alphabet, than any alphabet's classes), or a class with fewer than K+Q images.
 */
public final class EpisodeSampler {

    private final ImageDataset dataset;
    private final EpisodeSpec spec;
    private final SplittableRandom random;
    /** Class ids to choose from, per group; a single pseudo-group when not sampling within groups. */
    private final List<int[]> candidatePools;

    public EpisodeSampler(ImageDataset dataset, EpisodeSpec spec, long seed) {
        this.dataset = Objects.requireNonNull(dataset, "dataset");
        this.spec = Objects.requireNonNull(spec, "spec");
        this.random = new SplittableRandom(seed);
        checkImagesPerClass(dataset, spec);
        this.candidatePools = candidatePools(dataset, spec);
    }

    public EpisodeSpec spec() {
        return spec;
    }

    public ImageDataset dataset() {
        return dataset;
    }

    /** Draws the next episode. */
    public Episode next() {
        int[] pool = candidatePools.get(candidatePools.size() == 1 ? 0 : random.nextInt(candidatePools.size()));
        int ways = spec.ways();
        int[] classIds = firstOfShuffled(pool.clone(), ways);

        ShotMode mode = spec.shotMode();
        if (mode == ShotMode.ANY_SHOT) {
            mode = random.nextBoolean() ? ShotMode.CLASS_IMBALANCED : ShotMode.TASK_IMBALANCED;
        }
        int queries = spec.queries();
        int[] shots = new int[ways];
        switch (mode) {
            case FIXED -> Arrays.fill(shots, spec.shots());
            case CLASS_IMBALANCED -> {
                for (int c = 0; c < ways; c++) {
                    int cap = Math.min(spec.shots(), dataset.classAt(classIds[c]).imageCount() - queries);
                    shots[c] = 1 + random.nextInt(cap);
                }
            }
            case TASK_IMBALANCED -> {
                int cap = spec.shots();
                for (int id : classIds) {
                    cap = Math.min(cap, dataset.classAt(id).imageCount() - queries);
                }
                Arrays.fill(shots, 1 + random.nextInt(cap));
            }
            default -> throw new AssertionError(mode);
        }

        int supportSize = 0;
        for (int s : shots) {
            supportSize += s;
        }
        float[][] supportImages = new float[supportSize][];
        int[] supportLabels = new int[supportSize];
        int[] supportIndices = new int[supportSize];
        float[][] queryImages = new float[ways * queries][];
        int[] queryLabels = new int[ways * queries];
        int[] queryIndices = new int[ways * queries];
        int s = 0;
        int q = 0;
        for (int c = 0; c < ways; c++) {
            ImageClass imageClass = dataset.classAt(classIds[c]);
            // One draw without replacement for support and query together keeps them disjoint.
            int[] chosen = firstOfShuffled(identity(imageClass.imageCount()), shots[c] + queries);
            for (int i = 0; i < shots[c]; i++, s++) {
                supportIndices[s] = chosen[i];
                supportLabels[s] = c;
                supportImages[s] = imageClass.image(chosen[i]);
            }
            for (int i = shots[c]; i < chosen.length; i++, q++) {
                queryIndices[q] = chosen[i];
                queryLabels[q] = c;
                queryImages[q] = imageClass.image(chosen[i]);
            }
        }
        return new Episode(ways, dataset.height(), dataset.width(), supportImages, supportLabels,
                queryImages, queryLabels, shots, classIds, supportIndices, queryIndices, mode);
    }

    /** Partial Fisher-Yates: a uniformly random ordered selection of {@code count} elements. */
    private int[] firstOfShuffled(int[] values, int count) {
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(values.length - i);
            int tmp = values[i];
            values[i] = values[j];
            values[j] = tmp;
        }
        return Arrays.copyOf(values, count);
    }

    private static int[] identity(int n) {
        int[] values = new int[n];
        for (int i = 0; i < n; i++) {
            values[i] = i;
        }
        return values;
    }

    private static void checkImagesPerClass(ImageDataset dataset, EpisodeSpec spec) {
        int needed = spec.minimumImagesPerClass();
        for (ImageClass imageClass : dataset.classes()) {
            if (imageClass.imageCount() < needed) {
                String request = spec.shotMode() == ShotMode.FIXED
                        ? "K+Q = " + spec.shots() + "+" + spec.queries() + " = " + needed
                        : "1 shot + Q = 1+" + spec.queries() + " = " + needed;
                throw new IllegalArgumentException(request + " exceeds the images per class: class "
                        + imageClass.displayName() + " of " + dataset.name() + " has only "
                        + imageClass.imageCount() + " images");
            }
        }
    }

    private static List<int[]> candidatePools(ImageDataset dataset, EpisodeSpec spec) {
        int ways = spec.ways();
        if (!spec.withinGroup()) {
            if (ways > dataset.classCount()) {
                throw new IllegalArgumentException(ways + "-way episodes need " + ways + " classes but "
                        + dataset.name() + " has only " + dataset.classCount());
            }
            return List.of(identity(dataset.classCount()));
        }
        List<int[]> pools = new ArrayList<>();
        String largestGroup = null;
        int largestSize = 0;
        for (Map.Entry<String, List<Integer>> group : dataset.classIdsByGroup().entrySet()) {
            int size = group.getValue().size();
            if (size > largestSize) {
                largestSize = size;
                largestGroup = group.getKey();
            }
            if (size >= ways) {
                pools.add(group.getValue().stream().mapToInt(Integer::intValue).toArray());
            }
        }
        if (pools.isEmpty()) {
            throw new IllegalArgumentException(ways + "-way within-alphabet episodes need an alphabet with "
                    + ways + " classes, but the largest in " + dataset.name() + " has only " + largestSize
                    + (largestGroup == null ? "" : " (" + largestGroup + ")"));
        }
        return pools;
    }
}
