package io.github.grad4j.experiments.meta.data;

import java.util.List;
import java.util.Objects;

/**
 * One class of a few-shot dataset, e.g. one Omniglot character, with all its images.
 *
 * <p>Images are kept in the compact byte format of {@link Pixels#encode} (one byte per pixel);
 * {@link #image(int)} decodes a fresh float[] on demand.
 *
 * @param group           the class's source group: the Omniglot alphabet, or the dataset name for
 *                        datasets without groups (Fashion-MNIST)
 * @param name            the class's name within its group, e.g. {@code character07}
 * @param rotationDegrees 0 for original classes; 90, 180 or 270 for classes created by rotating
 *                        every image of the class {@code (group, name, 0)}. Kept separate from the
 *                        name so that class splits can keep all rotations of a character together.
 * @param encodedImages   images in {@link Pixels#encode} format, all of the dataset's size
 */
public record ImageClass(String group, String name, int rotationDegrees, List<byte[]> encodedImages) {

    public ImageClass {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(name, "name");
        if (rotationDegrees != 0 && rotationDegrees != 90 && rotationDegrees != 180 && rotationDegrees != 270) {
            throw new IllegalArgumentException("rotation must be 0, 90, 180 or 270, got " + rotationDegrees);
        }
        encodedImages = List.copyOf(encodedImages);
    }

    /** Number of images (Omniglot: drawers) of this class. */
    public int imageCount() {
        return encodedImages.size();
    }

    /** Image {@code index} as a new float[] with values in [0, 1]. */
    public float[] image(int index) {
        return Pixels.decode(encodedImages.get(index));
    }

    /**
     * Identifies the underlying character regardless of rotation ({@code group/name}); classes with
     * the same key must end up in the same split.
     */
    public String characterKey() {
        return group + "/" + name;
    }

    /** Human-readable unique id, e.g. {@code Latin/character03} or {@code Latin/character03@rot90}. */
    public String displayName() {
        return rotationDegrees == 0 ? characterKey() : characterKey() + "@rot" + rotationDegrees;
    }

    @Override
    public String toString() {
        return displayName() + " (" + imageCount() + " images)";
    }
}
