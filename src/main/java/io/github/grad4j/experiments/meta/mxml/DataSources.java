package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.data.FashionMnist;
import io.github.grad4j.experiments.meta.data.ImageClass;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.OmniglotLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Data sources named on the command line, and the selections the MxML experiment needs.
 *
 * <p>A source specification is one of
 * <ul>
 *   <li>{@code PATH} - an Omniglot zip or folder, all alphabets;</li>
 *   <li>{@code PATH#Alphabet1+Alphabet2} - only those alphabets (e.g.
 *       {@code images_background_small2.zip#Japanese_(katakana)+Sanskrit});</li>
 *   <li>{@code fashion-mnist[:train|:test][#i+j+...]} - Fashion-MNIST from
 *       {@link FashionMnist#defaultDirectory()}, optionally only the classes with those label indices.</li>
 * </ul>
 */
public final class DataSources {
    public static final String FASHION_PREFIX = "fashion-mnist";

    private DataSources() {
    }

    /** Loads a source specification at {@code imageSize} x {@code imageSize}. */
    public static ImageDataset load(String spec, int imageSize) throws IOException {
        String base = spec;
        List<String> selection = List.of();
        int hash = spec.lastIndexOf('#');
        if (hash >= 0) {
            base = spec.substring(0, hash);
            selection = List.of(spec.substring(hash + 1).split("\\+"));
        }
        if (base.equals(FASHION_PREFIX) || base.startsWith(FASHION_PREFIX + ":")) {
            String split = base.equals(FASHION_PREFIX) ? "train" : base.substring(FASHION_PREFIX.length() + 1);
            FashionMnist.Split which = switch (split.toLowerCase(Locale.ROOT)) {
                case "train" -> FashionMnist.Split.TRAIN;
                case "test" -> FashionMnist.Split.TEST;
                default -> throw new IllegalArgumentException("source '" + spec + "': Fashion-MNIST split must be train or test, got '"
                        + split + "'");
            };
            ImageDataset all = FashionMnist.load(FashionMnist.defaultDirectory(), which, imageSize);
            if (selection.isEmpty()) return all;
            List<Integer> ids = new ArrayList<>();
            for (String s : selection) {
                int id;
                try {
                    id = Integer.parseInt(s.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("source '" + spec + "': class '" + s + "' is not a label index 0..9");
                }
                if (id < 0 || id >= all.classCount()) {
                    throw new IllegalArgumentException("source '" + spec + "': class index " + id + " outside 0.."
                            + (all.classCount() - 1));
                }
                ids.add(id);
            }
            return all.subset(all.name() + "#" + String.join("+", selection), ids);
        }
        Path path = Path.of(base);
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toAbsolutePath() + " (source '" + spec
                    + "': expected an Omniglot zip or folder, or fashion-mnist[:train|:test][#classes])");
        }
        ImageDataset omniglot = OmniglotLoader.load(path, OmniglotLoader.Options.defaults().withImageSize(imageSize));
        return selection.isEmpty() ? omniglot : groups(omniglot, selection);
    }

    /** The classes of the named groups (alphabets); every name must exist. */
    public static ImageDataset groups(ImageDataset data, List<String> groups) {
        Set<String> wanted = new HashSet<>(groups);
        for (String g : groups) {
            if (!data.groups().contains(g)) {
                throw new IllegalArgumentException("alphabet '" + g + "' is not in " + data.name() + "; it has " + data.groups());
            }
        }
        List<Integer> ids = new ArrayList<>();
        for (int id = 0; id < data.classCount(); id++) if (wanted.contains(data.classAt(id).group())) ids.add(id);
        return data.subset(data.name() + "#" + String.join("+", groups), ids);
    }

    /** The first {@code imagesPerClass} images of every class (to bound memory and loading of large sources). */
    public static ImageDataset firstImages(ImageDataset data, int imagesPerClass) {
        return imageRange(data, 0, imagesPerClass, data.name());
    }

    /**
     * Images {@code from} (inclusive) to {@code to} (exclusive) of every class, as far as a class has
     * them: disjoint ranges give disjoint image sets of the same classes (e.g. a learner's training
     * images and the WPN's validation images of the same garments).
     *
     * @throws IllegalArgumentException if the range is empty or some class has no image in it
     */
    public static ImageDataset imageRange(ImageDataset data, int from, int to, String name) {
        if (from < 0 || to <= from) throw new IllegalArgumentException("imageRange: empty range [" + from + ", " + to + ")");
        List<ImageClass> classes = new ArrayList<>();
        for (ImageClass c : data.classes()) {
            if (c.imageCount() <= from) {
                throw new IllegalArgumentException("imageRange: class '" + c.name() + "' of " + data.name() + " has "
                        + c.imageCount() + " images, none in [" + from + ", " + to + ")");
            }
            int end = Math.min(to, c.imageCount());
            classes.add(new ImageClass(c.group(), c.name(), c.rotationDegrees(), c.encodedImages().subList(from, end)));
        }
        return new ImageDataset(name, data.height(), data.width(), classes);
    }
}
