package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageDataset;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A task distribution made of several sources (e.g. Omniglot alphabets, Fashion-MNIST): each
 * episode first picks a source uniformly, then draws an N-way K-shot episode from it alone. Mixing
 * sources per episode, not per class, keeps every episode within one domain, as the tasks each
 * learner met; uniform choice keeps a small source (Fashion-MNIST's 5 classes) as frequent as a
 * large one.
 *
 * <p>Deterministic: episode {@code index} depends only on (seed, index), so runs can be repeated
 * and methods compared on identical episodes.
 */
public final class EpisodeSources {
    private final List<String> names;
    private final List<ImageDataset> sources;
    private final EpisodeSpec spec;
    private final long seed;

    /** One drawn episode and the index of the source it came from. */
    public record Drawn(int source, Episode episode) {
    }

    /** @throws IllegalArgumentException at once if some source cannot supply such episodes */
    public EpisodeSources(List<String> names, List<ImageDataset> sources, EpisodeSpec spec, long seed) {
        if (sources.isEmpty() || names.size() != sources.size()) {
            throw new IllegalArgumentException("EpisodeSources: need one name per source and at least one source, got "
                    + names.size() + " names for " + sources.size() + " sources");
        }
        for (ImageDataset source : sources) new EpisodeSampler(source, spec, seed);   // fails early, naming the source
        this.names = List.copyOf(names);
        this.sources = List.copyOf(sources);
        this.spec = spec;
        this.seed = seed;
    }

    public List<String> names() {
        return names;
    }

    public List<ImageDataset> sources() {
        return sources;
    }

    public EpisodeSpec spec() {
        return spec;
    }

    /** The episode with 0-based index {@code index}. */
    public Drawn episode(long index) {
        long episodeSeed = seed ^ (0x9E3779B97F4A7C15L * (index + 1));
        int source = new SplittableRandom(episodeSeed).nextInt(sources.size());
        Episode episode = new EpisodeSampler(sources.get(source), spec, episodeSeed + 1).next();
        return new Drawn(source, episode);
    }

    /** Total number of classes over all sources. */
    public int classCount() {
        return sources.stream().mapToInt(ImageDataset::classCount).sum();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < sources.size(); i++) {
            if (i > 0) sb.append(" + ");
            sb.append(names.get(i)).append(" (").append(sources.get(i).classCount()).append(" classes)");
        }
        return sb.toString();
    }
}
