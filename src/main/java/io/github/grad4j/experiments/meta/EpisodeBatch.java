package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * One few-shot task as tensors: support and query images [count, 1, S, S] and episode-local labels
 * 0..ways-1. Query labels may be null when they are unknown (Lake's runs are scored outside).
 *
 * @param support       support images [Ns, 1, S, S]
 * @param supportLabels label of each support image; every class 0..ways-1 must occur
 * @param query         query images [Nq, 1, S, S]
 * @param queryLabels   label of each query image, or null
 * @param ways          N
 */
public record EpisodeBatch(Tensor support, int[] supportLabels, Tensor query, int[] queryLabels, int ways) {

    public EpisodeBatch {
        if (support.dim() != 4 || query.dim() != 4) {
            throw new IllegalArgumentException("EpisodeBatch: images must be [count, 1, S, S], got support "
                    + Shape.str(support.shape()) + " and query " + Shape.str(query.shape()));
        }
        if (supportLabels.length != support.size(0)) {
            throw new IllegalArgumentException("EpisodeBatch: " + supportLabels.length + " support labels for "
                    + support.size(0) + " support images");
        }
        if (queryLabels != null && queryLabels.length != query.size(0)) {
            throw new IllegalArgumentException("EpisodeBatch: " + queryLabels.length + " query labels for "
                    + query.size(0) + " query images");
        }
        int[] counts = new int[ways];
        for (int label : supportLabels) {
            if (label < 0 || label >= ways) {
                throw new IllegalArgumentException("EpisodeBatch: support label " + label + " outside 0.." + (ways - 1));
            }
            counts[label]++;
        }
        for (int c = 0; c < ways; c++) {
            if (counts[c] == 0) throw new IllegalArgumentException("EpisodeBatch: class " + c + " has no support image");
        }
        if (queryLabels != null) {
            for (int label : queryLabels) {
                if (label < 0 || label >= ways) {
                    throw new IllegalArgumentException("EpisodeBatch: query label " + label + " outside 0.." + (ways - 1));
                }
            }
        }
    }

    /** The episode's images as tensors of {@code dtype} on the default backend. */
    public static EpisodeBatch of(Episode episode, DType dtype) {
        return new EpisodeBatch(images(episode.flatSupport(), episode.supportSize(), episode.height(), dtype),
                episode.supportLabels().clone(),
                images(episode.flatQuery(), episode.querySize(), episode.height(), dtype),
                episode.queryLabels().clone(), episode.ways());
    }

    /** Images given one per row (as Lake's runs are), with unknown query labels unless given. */
    public static EpisodeBatch of(float[][] supportImages, int[] supportLabels, float[][] queryImages, int[] queryLabels,
                                  int ways, int side, DType dtype) {
        return new EpisodeBatch(images(flatten(supportImages), supportImages.length, side, dtype), supportLabels,
                images(flatten(queryImages), queryImages.length, side, dtype), queryLabels, ways);
    }

    private static float[] flatten(float[][] images) {
        int pixels = images.length == 0 ? 0 : images[0].length;
        float[] flat = new float[images.length * pixels];
        for (int i = 0; i < images.length; i++) System.arraycopy(images[i], 0, flat, i * pixels, pixels);
        return flat;
    }

    private static Tensor images(float[] flat, int count, int side, DType dtype) {
        Tensor t = Tensor.of(flat, count, 1, side, side);
        return dtype == DType.FLOAT32 ? t : t.toDType(dtype);
    }

    /** Support examples per class (imbalanced supports have different counts). */
    public int[] shotsPerClass() {
        int[] counts = new int[ways];
        for (int label : supportLabels) counts[label]++;
        return counts;
    }
}
