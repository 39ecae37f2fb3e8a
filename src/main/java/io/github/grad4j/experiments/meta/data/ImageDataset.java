package io.github.grad4j.experiments.meta.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A labelled image collection organised for few-shot learning: classes, each with several images,
 * grouped by source (Omniglot alphabet). Images are single-channel, {@code height x width},
 * row-major float values in [0, 1] where 1.0 is foreground (ink) and 0.0 background.
 *
 * <p>Immutable; subsets share the underlying image arrays, so splitting costs no pixel copies.
 *
 * @param name    a description, e.g. {@code omniglot:images_background_small1}
 * @param height  image height in pixels
 * @param width   image width in pixels
 * @param classes the classes; a class's index in this list is its class id
 */
public record ImageDataset(String name, int height, int width, List<ImageClass> classes) {

    public ImageDataset {
        Objects.requireNonNull(name, "name");
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
        }
        classes = List.copyOf(classes);
        int pixels = height * width;
        for (ImageClass imageClass : classes) {
            for (int i = 0; i < imageClass.imageCount(); i++) {
                if (imageClass.encodedImages().get(i).length != pixels) {
                    throw new IllegalArgumentException("image " + i + " of class " + imageClass.displayName()
                            + " has " + imageClass.encodedImages().get(i).length + " pixels, expected "
                            + height + "x" + width);
                }
            }
        }
    }

    public int classCount() {
        return classes.size();
    }

    public ImageClass classAt(int classId) {
        return classes.get(classId);
    }

    /** Image {@code imageIndex} of class {@code classId} as a new float[height * width]. */
    public float[] image(int classId, int imageIndex) {
        return classes.get(classId).image(imageIndex);
    }

    public int pixelsPerImage() {
        return height * width;
    }

    public int totalImageCount() {
        return classes.stream().mapToInt(ImageClass::imageCount).sum();
    }

    /** Class ids per group (alphabet), groups in order of first appearance. */
    public Map<String, List<Integer>> classIdsByGroup() {
        Map<String, List<Integer>> byGroup = new LinkedHashMap<>();
        for (int id = 0; id < classes.size(); id++) {
            byGroup.computeIfAbsent(classes.get(id).group(), g -> new ArrayList<>()).add(id);
        }
        return byGroup;
    }

    /** Distinct groups (alphabets) in order of first appearance. */
    public List<String> groups() {
        return List.copyOf(classIdsByGroup().keySet());
    }

    /** Smallest number of images any class has (0 for an empty dataset). */
    public int minImagesPerClass() {
        return classes.stream().mapToInt(ImageClass::imageCount).min().orElse(0);
    }

    /**
     * A dataset with only the given classes, in the given order (class ids are renumbered to
     * positions in {@code classIds}). Images are shared, not copied.
     */
    public ImageDataset subset(String subsetName, List<Integer> classIds) {
        List<ImageClass> selected = new ArrayList<>(classIds.size());
        for (int id : classIds) {
            selected.add(classes.get(id));
        }
        return new ImageDataset(subsetName, height, width, selected);
    }

    /**
     * This dataset without the classes of the named groups (alphabets), e.g. the alphabets a test
     * split shares with the training split. Every name must be a group of this dataset.
     */
    public ImageDataset withoutGroups(java.util.Collection<String> excluded) {
        List<String> known = groups();
        for (String g : excluded) {
            if (!known.contains(g)) {
                throw new IllegalArgumentException(name + " has no alphabet '" + g + "' (alphabets: "
                        + String.join(", ", known) + ")");
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (int id = 0; id < classes.size(); id++) {
            if (!excluded.contains(classes.get(id).group())) kept.add(id);
        }
        return subset(name + " without " + String.join(", ", excluded), kept);
    }

    @Override
    public String toString() {
        return name + " [" + groups().size() + " groups, " + classCount() + " classes, "
                + totalImageCount() + " images of " + height + "x" + width + "]";
    }
}
