package io.github.grad4j.experiments.meta.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * One few-shot task. Support and query images are ordered class by class (label 0 first); labels are
 * episode-local, 0..ways-1, and label {@code c} stands for dataset class {@code sourceClassIds[c]}.
 *
 * <p>Images are fresh float[] arrays of {@code height * width}, values in [0, 1], so a consumer may
 * modify them. {@link #flatSupport()} / {@link #flatQuery()} give one contiguous array each
 * ({@code [count][height][width]} row-major), convenient for wrapping in a tensor.
 *
 * <p>{@code equals} compares contents (all arrays element by element), so two episodes drawn with the
 * same seed are equal.
 *
 * @param ways                 N
 * @param height               image height
 * @param width                image width
 * @param supportImages        sum(shotsPerClass) images
 * @param supportLabels        episode label of each support image
 * @param queryImages          ways * queries images
 * @param queryLabels          episode label of each query image
 * @param shotsPerClass        support images of each episode class
 * @param sourceClassIds       dataset class id of each episode class
 * @param supportImageIndices  index of each support image within its dataset class
 * @param queryImageIndices    index of each query image within its dataset class (never one of the
 *                             class's support indices)
 * @param drawnShotMode        {@link ShotMode#FIXED}, {@link ShotMode#CLASS_IMBALANCED} or
 *                             {@link ShotMode#TASK_IMBALANCED}: what this episode actually used
 */
public record Episode(int ways, int height, int width,
                      float[][] supportImages, int[] supportLabels,
                      float[][] queryImages, int[] queryLabels,
                      int[] shotsPerClass, int[] sourceClassIds,
                      int[] supportImageIndices, int[] queryImageIndices,
                      ShotMode drawnShotMode) {

    public int supportSize() {
        return supportImages.length;
    }

    public int querySize() {
        return queryImages.length;
    }

    /** All support images in one array of {@code supportSize() * height * width} values. */
    public float[] flatSupport() {
        return flatten(supportImages);
    }

    /** All query images in one array of {@code querySize() * height * width} values. */
    public float[] flatQuery() {
        return flatten(queryImages);
    }

    private float[] flatten(float[][] images) {
        int pixels = height * width;
        float[] flat = new float[images.length * pixels];
        for (int i = 0; i < images.length; i++) {
            System.arraycopy(images[i], 0, flat, i * pixels, pixels);
        }
        return flat;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Episode e
                && ways == e.ways && height == e.height && width == e.width
                && Arrays.deepEquals(supportImages, e.supportImages)
                && Arrays.equals(supportLabels, e.supportLabels)
                && Arrays.deepEquals(queryImages, e.queryImages)
                && Arrays.equals(queryLabels, e.queryLabels)
                && Arrays.equals(shotsPerClass, e.shotsPerClass)
                && Arrays.equals(sourceClassIds, e.sourceClassIds)
                && Arrays.equals(supportImageIndices, e.supportImageIndices)
                && Arrays.equals(queryImageIndices, e.queryImageIndices)
                && drawnShotMode == e.drawnShotMode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(ways, Arrays.hashCode(sourceClassIds), Arrays.hashCode(shotsPerClass),
                Arrays.hashCode(supportImageIndices), Arrays.hashCode(queryImageIndices), drawnShotMode);
    }

    @Override
    public String toString() {
        return "Episode[" + ways + "-way, shots " + Arrays.toString(shotsPerClass) + ", " + querySize()
                + " queries, " + drawnShotMode + ", classes " + Arrays.toString(sourceClassIds) + "]";
    }
}
