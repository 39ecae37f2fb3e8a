package io.github.grad4j.experiments.meta.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Loads Omniglot (Lake et al. 2015) in its original distribution layout
 * {@code [root/]alphabet/character/drawer.png}, either from the original zip archive (read with
 * {@link java.util.zip}, nothing is unpacked to disk) or from an unpacked folder. Works for
 * {@code images_background}, {@code images_evaluation} and the minimal splits
 * {@code images_background_small1/2}.
 *
 * <p>Pixel convention: the PNGs are 105x105, 1 bit, black strokes on white. Loaded images are
 * <b>inverted</b> so that ink = 1.0 and background = 0.0, then resized with area averaging
 * ({@link Pixels#resizeAreaAverage}) to {@code imageSize x imageSize} (default 28), so stroke
 * borders become grey levels in between.
 *
 * <p>Order is deterministic: alphabets, characters and drawer files are sorted by name, so class ids
 * and image indices are the same on every platform and for zip and folder alike.
 */
public final class OmniglotLoader {

    /** Side length of the original Omniglot images. */
    public static final int ORIGINAL_SIZE = 105;
    /** Side length used by most few-shot papers, and our default. */
    public static final int DEFAULT_SIZE = 28;

    /**
     * Loading options.
     *
     * @param imageSize          side length of the (square) output images
     * @param rotationsAsClasses if true, every character also yields three new classes with all its
     *                           images rotated by 90, 180 and 270 degrees (the augmentation of
     *                           Santoro et al. / Vinyals et al.; it makes the task easier and results
     *                           not comparable with Lake's protocol, hence off by default)
     */
    public record Options(int imageSize, boolean rotationsAsClasses) {

        public Options {
            if (imageSize <= 0) {
                throw new IllegalArgumentException("imageSize must be positive, got " + imageSize);
            }
        }

        /** 28x28, no rotations. */
        public static Options defaults() {
            return new Options(DEFAULT_SIZE, false);
        }

        public Options withImageSize(int size) {
            return new Options(size, rotationsAsClasses);
        }

        public Options withRotationsAsClasses(boolean enabled) {
            return new Options(imageSize, enabled);
        }
    }

    private OmniglotLoader() {
    }

    /** Loads with {@link Options#defaults()}. */
    public static ImageDataset load(Path zipOrFolder) throws IOException {
        return load(zipOrFolder, Options.defaults());
    }

    /**
     * Loads an Omniglot archive ({@code .zip}) or an unpacked folder. The folder (or the zip) may
     * contain the alphabet folders directly or inside one top folder such as
     * {@code images_background_small1/}.
     *
     * @throws NoSuchFileException    if the path does not exist
     * @throws DatasetFormatException if the layout is not {@code alphabet/character/image.png} or an
     *                                image cannot be decoded (the message names the entry)
     */
    public static ImageDataset load(Path zipOrFolder, Options options) throws IOException {
        if (!Files.exists(zipOrFolder)) {
            throw new NoSuchFileException(zipOrFolder.toString(), null,
                    "Omniglot data not found (expected a zip archive or a folder of alphabet folders)");
        }
        String datasetName = "omniglot:" + stripZipSuffix(zipOrFolder.getFileName().toString());
        if (Files.isDirectory(zipOrFolder)) {
            return loadFolder(zipOrFolder, datasetName, options);
        }
        return loadZip(zipOrFolder, datasetName, options);
    }

    private static ImageDataset loadZip(Path zipPath, String datasetName, Options options) throws IOException {
        ZipFile zip;
        try {
            zip = new ZipFile(zipPath.toFile());
        } catch (ZipException e) {
            throw new DatasetFormatException(zipPath + " is neither a folder nor a readable zip archive: "
                    + e.getMessage(), e);
        }
        try (zip) {
            List<String> paths = new ArrayList<>();
            Map<String, ZipEntry> entries = new TreeMap<>();
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                if (!entry.isDirectory()) {
                    paths.add(entry.getName());
                    entries.put(entry.getName(), entry);
                }
            }
            Layout layout = Layout.of(paths, zipPath.toString());
            return layout.build(datasetName, options, relativePath -> {
                ZipEntry entry = entries.get(relativePath);
                try (InputStream in = zip.getInputStream(entry)) {
                    return in.readAllBytes();
                }
            }, entryName -> zipPath + "!/" + entryName);
        }
    }

    private static ImageDataset loadFolder(Path folder, String datasetName, Options options) throws IOException {
        List<String> paths = new ArrayList<>();
        try (Stream<Path> files = Files.walk(folder)) {
            files.filter(Files::isRegularFile)
                    .forEach(file -> paths.add(folder.relativize(file).toString().replace('\\', '/')));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Layout layout = Layout.of(paths, folder.toString());
        return layout.build(datasetName, options,
                relativePath -> Files.readAllBytes(folder.resolve(relativePath)),
                relativePath -> folder.resolve(relativePath).toString());
    }

    private static String stripZipSuffix(String fileName) {
        return fileName.toLowerCase(Locale.ROOT).endsWith(".zip")
                ? fileName.substring(0, fileName.length() - 4) : fileName;
    }

    @FunctionalInterface
    private interface BytesReader {
        byte[] read(String relativePath) throws IOException;
    }

    @FunctionalInterface
    private interface SourceNamer {
        String describe(String relativePath);
    }

    /**
     * The image files found, organised as alphabet -> character -> sorted image paths. Validates
     * that every image sits at the same depth below one common prefix ({@code alphabet/character/}).
     */
    private record Layout(Map<String, Map<String, List<String>>> imagePaths) {

        static Layout of(List<String> allPaths, String location) throws DatasetFormatException {
            List<String> images = new ArrayList<>();
            for (String path : allPaths) {
                if (isImage(path)) {
                    images.add(path);
                }
            }
            if (images.isEmpty()) {
                throw new DatasetFormatException("malformed Omniglot layout in " + location
                        + ": no alphabet folders with .png images found (expected alphabet/character/image.png)");
            }
            images.sort(null);
            String[] reference = images.get(0).split("/");
            if (reference.length < 3) {
                throw new DatasetFormatException("malformed Omniglot layout in " + location + ": image '"
                        + images.get(0) + "' is not inside alphabet/character/ folders");
            }
            // Everything above alphabet/character/image must be the same (e.g. "images_background/").
            List<String> prefix = Arrays.asList(reference).subList(0, reference.length - 3);
            Map<String, Map<String, List<String>>> byAlphabet = new TreeMap<>();
            for (String path : images) {
                String[] parts = path.split("/");
                if (parts.length != reference.length
                        || !Arrays.asList(parts).subList(0, parts.length - 3).equals(prefix)) {
                    throw new DatasetFormatException("malformed Omniglot layout in " + location
                            + ": images under different parent folders or at different depths, e.g. '" + images.get(0) + "' and '" + path
                            + "' (expected every image at alphabet/character/image.png)");
                }
                byAlphabet.computeIfAbsent(parts[parts.length - 3], a -> new TreeMap<>())
                        .computeIfAbsent(parts[parts.length - 2], c -> new ArrayList<>())
                        .add(path);
            }
            return new Layout(byAlphabet);
        }

        private static boolean isImage(String path) {
            String fileName = path.substring(path.lastIndexOf('/') + 1);
            // Skip macOS archive metadata (__MACOSX/, ._name.png) and other hidden files.
            return fileName.toLowerCase(Locale.ROOT).endsWith(".png")
                    && !fileName.startsWith(".")
                    && !path.startsWith("__MACOSX/") && !path.contains("/__MACOSX/");
        }

        ImageDataset build(String datasetName, Options options, BytesReader reader, SourceNamer namer)
                throws IOException {
            int size = options.imageSize();
            List<ImageClass> classes = new ArrayList<>();
            for (var alphabet : imagePaths.entrySet()) {
                for (var character : alphabet.getValue().entrySet()) {
                    List<byte[]> images = new ArrayList<>(character.getValue().size());
                    for (String path : character.getValue()) {
                        images.add(decodeAndResize(reader.read(path), namer.describe(path), size));
                    }
                    classes.add(new ImageClass(alphabet.getKey(), character.getKey(), 0, images));
                    if (options.rotationsAsClasses()) {
                        for (int degrees : new int[] {90, 180, 270}) {
                            List<byte[]> rotated = new ArrayList<>(images.size());
                            for (byte[] image : images) {
                                rotated.add(Pixels.rotateSquare(image, size, degrees));
                            }
                            classes.add(new ImageClass(alphabet.getKey(), character.getKey(), degrees, rotated));
                        }
                    }
                }
            }
            return new ImageDataset(datasetName, size, size, classes);
        }

        private static byte[] decodeAndResize(byte[] png, String sourceName, int size) throws DatasetFormatException {
            InkImageDecoder.InkImage decoded = InkImageDecoder.decode(png, sourceName);
            float[] resized = Pixels.resizeAreaAverage(decoded.ink(), decoded.height(), decoded.width(), size, size);
            return Pixels.encode(resized);
        }
    }
}
