package io.github.grad4j.experiments.meta.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Fashion-MNIST (Xiao et al. 2017) from its IDX files, as an {@link ImageDataset} with 10 classes in
 * one group {@code fashion-mnist}. Used as an out-of-distribution source for Omniglot-trained
 * meta-learners.
 *
 * <p>Pixel convention: IDX stores 0 = background and 255 = object (a light garment on black), which
 * already matches our ink convention, so values are simply byte / 255 (no inversion).
 *
 * <p>Default location: the Debian package {@code dataset-fashion-mnist} installs
 * {@code /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz}
 * (see {@code dpkg -L dataset-fashion-mnist}). Override with the system property
 * {@value #DIRECTORY_PROPERTY} or by passing a folder. Files may be gzipped or not; gzip is detected
 * from the content, not the name.
 */
public final class FashionMnist {

    /** Where the Debian package {@code dataset-fashion-mnist} puts the files. */
    public static final Path DEBIAN_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    /** System property that overrides {@link #DEBIAN_DIRECTORY}. */
    public static final String DIRECTORY_PROPERTY = "grad4j.fashionMnist";

    /** IDX magic numbers: 0x00 0x00, type 0x08 (unsigned byte), then the number of dimensions. */
    static final int IMAGES_MAGIC = 0x00000803;
    static final int LABELS_MAGIC = 0x00000801;

    /** Class names in label order, from the Fashion-MNIST README. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
            "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** Which half of the data. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String filePrefix;

        Split(String filePrefix) {
            this.filePrefix = filePrefix;
        }
    }

    /** Raw content of an IDX3 image file: {@code count} images of {@code rows x columns} bytes. */
    public record IdxImages(int count, int rows, int columns, byte[] pixels) {
        public byte[] image(int index) {
            int size = rows * columns;
            byte[] image = new byte[size];
            System.arraycopy(pixels, index * size, image, 0, size);
            return image;
        }
    }

    private FashionMnist() {
    }

    /** {@value #DIRECTORY_PROPERTY} if set, else {@link #DEBIAN_DIRECTORY}. */
    public static Path defaultDirectory() {
        String override = System.getProperty(DIRECTORY_PROPERTY);
        return override == null || override.isBlank() ? DEBIAN_DIRECTORY : Path.of(override);
    }

    /** Loads a split from {@link #defaultDirectory()} at the native 28x28. */
    public static ImageDataset load(Split split) throws IOException {
        return load(defaultDirectory(), split, 28);
    }

    /**
     * Loads a split (60000 training or 10000 test images) grouped into its 10 classes; image order
     * within a class follows the file.
     *
     * @param imageSize side length of the output; anything other than 28 resizes with area averaging
     * @throws NoSuchFileException    if the folder or a file is missing (the message says where it looked)
     * @throws DatasetFormatException wrong magic number, truncated file, label outside 0..9, or image
     *                                and label counts that disagree
     */
    public static ImageDataset load(Path directory, Split split, int imageSize) throws IOException {
        if (imageSize <= 0) {
            throw new IllegalArgumentException("imageSize must be positive, got " + imageSize);
        }
        Path imagesFile = findFile(directory, split.filePrefix + "-images-idx3-ubyte");
        Path labelsFile = findFile(directory, split.filePrefix + "-labels-idx1-ubyte");
        IdxImages images = readImages(imagesFile);
        byte[] labels = readLabels(labelsFile);
        if (labels.length != images.count()) {
            throw new DatasetFormatException(labelsFile + " has " + labels.length + " labels but "
                    + imagesFile + " has " + images.count() + " images");
        }
        List<List<byte[]>> perClass = new ArrayList<>();
        for (int c = 0; c < CLASS_NAMES.size(); c++) {
            perClass.add(new ArrayList<>());
        }
        boolean resize = imageSize != images.rows() || imageSize != images.columns();
        for (int i = 0; i < images.count(); i++) {
            int label = labels[i] & 0xFF;
            if (label >= CLASS_NAMES.size()) {
                throw new DatasetFormatException(labelsFile + ": label " + label + " at index " + i
                        + " is outside 0.." + (CLASS_NAMES.size() - 1));
            }
            byte[] image = images.image(i);
            if (resize) {
                image = Pixels.encode(Pixels.resizeAreaAverage(Pixels.decode(image),
                        images.rows(), images.columns(), imageSize, imageSize));
            }
            perClass.get(label).add(image);
        }
        List<ImageClass> classes = new ArrayList<>();
        for (int c = 0; c < CLASS_NAMES.size(); c++) {
            classes.add(new ImageClass("fashion-mnist", CLASS_NAMES.get(c), 0, perClass.get(c)));
        }
        return new ImageDataset("fashion-mnist:" + split.name().toLowerCase(java.util.Locale.ROOT),
                imageSize, imageSize, classes);
    }

    /** Reads an IDX3 unsigned-byte image file (gzipped or not). */
    public static IdxImages readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            checkMagic(file, in, IMAGES_MAGIC, "IDX3 images");
            int count = readDimension(file, in, "image count");
            int rows = readDimension(file, in, "rows");
            int columns = readDimension(file, in, "columns");
            long bytes = (long) count * rows * columns;
            if (bytes > Integer.MAX_VALUE - 16) {
                throw new DatasetFormatException(file + ": header claims " + count + " images of " + rows + "x"
                        + columns + ", too large to load");
            }
            byte[] pixels = new byte[(int) bytes];
            readFully(file, in, pixels, count + " images of " + rows + "x" + columns + " pixels");
            return new IdxImages(count, rows, columns, pixels);
        }
    }

    /** Reads an IDX1 unsigned-byte label file (gzipped or not). */
    public static byte[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            checkMagic(file, in, LABELS_MAGIC, "IDX1 labels");
            int count = readDimension(file, in, "label count");
            byte[] labels = new byte[count];
            readFully(file, in, labels, count + " labels");
            return labels;
        }
    }

    private static Path findFile(Path directory, String baseName) throws NoSuchFileException {
        if (!Files.isDirectory(directory)) {
            throw new NoSuchFileException(directory.toString(), null, "Fashion-MNIST folder not found"
                    + " (install the Debian package dataset-fashion-mnist, or set -D" + DIRECTORY_PROPERTY + ")");
        }
        for (String candidate : new String[] {baseName + ".gz", baseName}) {
            Path file = directory.resolve(candidate);
            if (Files.isRegularFile(file)) {
                return file;
            }
        }
        throw new NoSuchFileException(directory.resolve(baseName + ".gz").toString(), null,
                "neither " + baseName + ".gz nor " + baseName + " found in " + directory);
    }

    /** Opens a file, transparently gunzipping when it starts with the gzip signature 1f 8b. */
    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "IDX file not found");
        }
        BufferedInputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int first = raw.read();
        int second = raw.read();
        raw.reset();
        InputStream content = raw;
        if (first == 0x1f && second == 0x8b) {
            try {
                content = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
            } catch (EOFException | ZipException e) {
                raw.close();
                throw new DatasetFormatException(file + ": broken gzip header (" + e.getMessage() + ")", e);
            }
        }
        return new DataInputStream(content);
    }

    private static void checkMagic(Path file, DataInputStream in, int expected, String kind) throws IOException {
        int magic = readHeaderInt(file, in, "magic number");
        if (magic != expected) {
            throw new DatasetFormatException(String.format(
                    "%s: wrong magic number 0x%08X, expected 0x%08X for %s (is this the right file?)",
                    file, magic, expected, kind));
        }
    }

    private static int readDimension(Path file, DataInputStream in, String what) throws IOException {
        int value = readHeaderInt(file, in, what);
        if (value < 0) {
            throw new DatasetFormatException(file + ": negative " + what + " " + value + " in header");
        }
        return value;
    }

    private static int readHeaderInt(Path file, DataInputStream in, String what) throws IOException {
        try {
            return in.readInt(); // IDX is big-endian, like DataInputStream
        } catch (EOFException e) {
            throw new DatasetFormatException(file + ": truncated header, file ends before the " + what, e);
        } catch (ZipException e) {
            throw new DatasetFormatException(file + ": corrupt gzip data (" + e.getMessage() + ")", e);
        }
    }

    private static void readFully(Path file, DataInputStream in, byte[] target, String what) throws IOException {
        int read = 0;
        try {
            while (read < target.length) {
                int n = in.read(target, read, target.length - read);
                if (n < 0) {
                    break;
                }
                read += n;
            }
        } catch (EOFException e) {
            // GZIPInputStream reports a cut-off compressed stream this way.
            throw new DatasetFormatException(file + ": truncated: the header announces " + what + " ("
                    + target.length + " bytes) but the compressed data ends after " + read + " bytes", e);
        } catch (ZipException e) {
            throw new DatasetFormatException(file + ": corrupt gzip data after " + read + " bytes ("
                    + e.getMessage() + ")", e);
        }
        if (read < target.length) {
            throw new DatasetFormatException(file + ": truncated: the header announces " + what + " ("
                    + target.length + " bytes) but only " + read + " bytes follow");
        }
    }
}
