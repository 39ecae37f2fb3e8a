package io.github.grad4j.experiments.meta.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Splits a dataset's classes (never its images) into disjoint meta-train / validation / test sets,
 * as few-shot evaluation requires test classes unseen during training.
 *
 * <p>Rotated copies of a character ({@link ImageClass#rotationDegrees()} != 0) always land in the same
 * split as the original; otherwise a model could meet a test character, merely rotated, in training.
 */
public final class ClassSplits {

    /** Three disjoint datasets; their class order follows the source dataset. */
    public record Split(ImageDataset train, ImageDataset validation, ImageDataset test) {
    }

    private ClassSplits() {
    }

    /**
     * Random split by character: {@code trainCharacters} characters to train, {@code validationCharacters}
     * to validation, all remaining to test. Counts are in characters (a character with its rotations
     * counts once); with rotations the splits then hold four classes per character.
     *
     * @throws IllegalArgumentException if the counts exceed the number of characters
     */
    public static Split byClass(ImageDataset dataset, int trainCharacters, int validationCharacters, long seed) {
        Map<String, List<Integer>> classIdsByCharacter = new LinkedHashMap<>();
        for (int id = 0; id < dataset.classCount(); id++) {
            classIdsByCharacter.computeIfAbsent(dataset.classAt(id).characterKey(), k -> new ArrayList<>()).add(id);
        }
        List<String> characters = new ArrayList<>(classIdsByCharacter.keySet());
        if (trainCharacters < 0 || validationCharacters < 0
                || trainCharacters + validationCharacters > characters.size()) {
            throw new IllegalArgumentException("cannot take " + trainCharacters + " train + " + validationCharacters
                    + " validation characters from " + dataset.name() + ", which has " + characters.size());
        }
        shuffle(characters, new SplittableRandom(seed));
        Set<String> train = new HashSet<>(characters.subList(0, trainCharacters));
        Set<String> validation = new HashSet<>(
                characters.subList(trainCharacters, trainCharacters + validationCharacters));
        return assemble(dataset, imageClass -> train.contains(imageClass.characterKey()) ? 0
                : validation.contains(imageClass.characterKey()) ? 1 : 2, "class split seed " + seed);
    }

    /**
     * Split by named groups (alphabets). Every group of the dataset must be named exactly once, so
     * that no alphabet is silently dropped.
     */
    public static Split byGroup(ImageDataset dataset, List<String> trainGroups, List<String> validationGroups,
                                List<String> testGroups) {
        Map<String, Integer> splitOfGroup = new LinkedHashMap<>();
        List<List<String>> lists = List.of(trainGroups, validationGroups, testGroups);
        for (int split = 0; split < 3; split++) {
            for (String group : lists.get(split)) {
                if (splitOfGroup.put(group, split) != null) {
                    throw new IllegalArgumentException("group " + group + " is named in more than one split");
                }
            }
        }
        Set<String> existing = new HashSet<>(dataset.groups());
        for (String group : splitOfGroup.keySet()) {
            if (!existing.contains(group)) {
                throw new IllegalArgumentException("group " + group + " does not exist in " + dataset.name()
                        + "; groups are " + dataset.groups());
            }
        }
        for (String group : dataset.groups()) {
            if (!splitOfGroup.containsKey(group)) {
                throw new IllegalArgumentException("group " + group + " of " + dataset.name()
                        + " is not assigned to any split");
            }
        }
        return assemble(dataset, imageClass -> splitOfGroup.get(imageClass.group()), "group split");
    }

    /**
     * Random split by group (alphabet): {@code trainGroups} groups to train, {@code validationGroups}
     * to validation, the rest to test.
     */
    public static Split byGroup(ImageDataset dataset, int trainGroups, int validationGroups, long seed) {
        List<String> groups = new ArrayList<>(dataset.groups());
        if (trainGroups < 0 || validationGroups < 0 || trainGroups + validationGroups > groups.size()) {
            throw new IllegalArgumentException("cannot take " + trainGroups + " train + " + validationGroups
                    + " validation groups from " + dataset.name() + ", which has " + groups.size());
        }
        shuffle(groups, new SplittableRandom(seed));
        return byGroup(dataset, groups.subList(0, trainGroups),
                groups.subList(trainGroups, trainGroups + validationGroups),
                groups.subList(trainGroups + validationGroups, groups.size()));
    }

    private interface SplitChooser {
        int splitOf(ImageClass imageClass);
    }

    private static Split assemble(ImageDataset dataset, SplitChooser chooser, String description) {
        List<List<Integer>> ids = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        for (int id = 0; id < dataset.classCount(); id++) {
            ids.get(chooser.splitOf(dataset.classAt(id))).add(id);
        }
        String base = dataset.name() + " (" + description + ") ";
        return new Split(dataset.subset(base + "train", ids.get(0)),
                dataset.subset(base + "validation", ids.get(1)),
                dataset.subset(base + "test", ids.get(2)));
    }

    private static <T> void shuffle(List<T> list, SplittableRandom random) {
        // Own Fisher-Yates: Collections.shuffle needs a java.util.Random.
        for (int i = list.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            T tmp = list.get(i);
            list.set(i, list.get(j));
            list.set(j, tmp);
        }
    }
}
