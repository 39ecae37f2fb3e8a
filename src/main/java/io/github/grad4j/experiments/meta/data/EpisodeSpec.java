package io.github.grad4j.experiments.meta.data;

/**
 * What kind of episodes to sample.
 *
 * @param ways        N, the number of classes per episode
 * @param shots       K: the exact shot count for {@link ShotMode#FIXED}; the maximum shot count
 *                    (shots drawn from U{1..K}) for the imbalanced modes
 * @param queries     Q, query images per class (always balanced, as in Bayesian-TAML)
 * @param shotMode    how shot counts are chosen
 * @param withinGroup if true, all N classes of an episode come from one group (Omniglot alphabet),
 *                    which is harder and is how Lake's one-shot runs are built
 */
public record EpisodeSpec(int ways, int shots, int queries, ShotMode shotMode, boolean withinGroup) {

    public EpisodeSpec {
        if (ways < 1) {
            throw new IllegalArgumentException("ways (N) must be at least 1, got " + ways);
        }
        if (shots < 1) {
            throw new IllegalArgumentException("shots (K) must be at least 1, got " + shots);
        }
        if (queries < 0) {
            throw new IllegalArgumentException("queries per class (Q) must not be negative, got " + queries);
        }
        if (shotMode == null) {
            throw new IllegalArgumentException("shotMode must not be null");
        }
    }

    /** Standard N-way K-shot episodes with Q queries per class, classes from anywhere. */
    public static EpisodeSpec fixed(int ways, int shots, int queries) {
        return new EpisodeSpec(ways, shots, queries, ShotMode.FIXED, false);
    }

    /** Bayesian-TAML any-shot episodes: shots up to {@code maxShots}, Q queries per class. */
    public static EpisodeSpec anyShot(int ways, int maxShots, int queries) {
        return new EpisodeSpec(ways, maxShots, queries, ShotMode.ANY_SHOT, false);
    }

    public EpisodeSpec withShotMode(ShotMode mode) {
        return new EpisodeSpec(ways, shots, queries, mode, withinGroup);
    }

    /** The same spec with all classes of an episode drawn from one group (alphabet). */
    public EpisodeSpec withinGroup(boolean enabled) {
        return new EpisodeSpec(ways, shots, queries, shotMode, enabled);
    }

    /** The fewest images a class must have: K+Q for fixed shots, 1+Q otherwise. */
    public int minimumImagesPerClass() {
        return (shotMode == ShotMode.FIXED ? shots : 1) + queries;
    }
}
