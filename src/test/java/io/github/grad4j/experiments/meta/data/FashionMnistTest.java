package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    private static Path installedDirectory() {
        Path directory = FashionMnist.defaultDirectory();
        assumeTrue(Files.isDirectory(directory), () -> "skipped: Fashion-MNIST not found at " + directory
                + " (apt install dataset-fashion-mnist, or -D" + FashionMnist.DIRECTORY_PROPERTY + "=folder)");
        return directory;
    }

    @Test
    void installedTrainAndTestSplitsHaveTheDocumentedSizes() throws IOException {
        Path directory = installedDirectory();
        ImageDataset train = FashionMnist.load(directory, FashionMnist.Split.TRAIN, 28);
        ImageDataset test = FashionMnist.load(directory, FashionMnist.Split.TEST, 28);
        assertEquals(60000, train.totalImageCount());
        assertEquals(10000, test.totalImageCount());
        assertEquals(10, train.classCount());
        assertEquals(10, test.classCount());
        assertEquals(28 * 28, train.image(0, 0).length);
        assertEquals("Ankle boot", train.classAt(9).name());
    }

    @Test
    void installedLabelsAreDigitsZeroToNine() throws IOException {
        Path directory = installedDirectory();
        for (String file : new String[] {"train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
            byte[] labels = FashionMnist.readLabels(directory.resolve(file));
            int[] counts = new int[256];
            for (byte label : labels) {
                counts[label & 0xFF]++;
            }
            for (int label = 10; label < 256; label++) {
                assertEquals(0, counts[label], file + " has label " + label);
            }
            for (int label = 0; label < 10; label++) {
                assertTrue(counts[label] > 0, file + " has no label " + label);
            }
        }
    }

    @Test
    void installedImagesResizeToRequestedSize() throws IOException {
        ImageDataset small = FashionMnist.load(installedDirectory(), FashionMnist.Split.TEST, 14);
        assertEquals(14, small.height());
        float[] image = small.image(3, 0);
        assertEquals(14 * 14, image.length);
        for (float v : image) {
            assertTrue(v >= 0f && v <= 1f);
        }
    }

    // ---- synthetic IDX files ----

    private static byte[] imagesIdx(int count, int rows, int columns, byte[] pixels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(FashionMnist.IMAGES_MAGIC);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(columns);
        out.write(pixels);
        return bytes.toByteArray();
    }

    private static byte[] labelsIdx(byte[] labels) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(FashionMnist.LABELS_MAGIC);
        out.writeInt(labels.length);
        out.write(labels);
        return bytes.toByteArray();
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(content);
        }
        return bytes.toByteArray();
    }

    /** Three 2x2 images: image i has all pixels 100*i (as unsigned byte), labels 7, 0, 7. */
    private static final byte[] PIXELS = {0, 0, 0, 0, 100, 100, 100, 100, (byte) 200, (byte) 200, (byte) 200, (byte) 200};
    private static final byte[] LABELS = {7, 0, 7};

    @Test
    void gzippedAndPlainFilesLoadIdenticallyAndGroupByLabel(@TempDir Path temp) throws IOException {
        Path gz = Files.createDirectories(temp.resolve("gz"));
        Files.write(gz.resolve("train-images-idx3-ubyte.gz"), gzip(imagesIdx(3, 2, 2, PIXELS)));
        Files.write(gz.resolve("train-labels-idx1-ubyte.gz"), gzip(labelsIdx(LABELS)));
        Path plain = Files.createDirectories(temp.resolve("plain"));
        Files.write(plain.resolve("train-images-idx3-ubyte"), imagesIdx(3, 2, 2, PIXELS));
        Files.write(plain.resolve("train-labels-idx1-ubyte"), labelsIdx(LABELS));

        for (Path directory : new Path[] {gz, plain}) {
            ImageDataset dataset = FashionMnist.load(directory, FashionMnist.Split.TRAIN, 2);
            assertEquals(3, dataset.totalImageCount());
            assertEquals(1, dataset.classAt(0).imageCount());
            assertEquals(2, dataset.classAt(7).imageCount());
            // Values are byte / 255, no inversion (IDX background is already 0).
            assertArrayEquals(new float[] {100 / 255f, 100 / 255f, 100 / 255f, 100 / 255f}, dataset.image(0, 0));
            assertArrayEquals(new float[4], dataset.image(7, 0));
            assertArrayEquals(new float[] {200 / 255f, 200 / 255f, 200 / 255f, 200 / 255f}, dataset.image(7, 1));
        }
    }

    @Test
    void truncatedImageFileNamesTheFileAndTheShortfall(@TempDir Path temp) throws IOException {
        Path file = temp.resolve("train-images-idx3-ubyte");
        Files.write(file, Arrays.copyOf(imagesIdx(3, 2, 2, PIXELS), 16 + 5));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> FashionMnist.readImages(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("only 5 bytes"), e.getMessage());
    }

    @Test
    void truncatedGzipFileNamesTheFile(@TempDir Path temp) throws IOException {
        byte[] compressed = gzip(imagesIdx(3, 28, 28, new byte[3 * 28 * 28]));
        Path file = temp.resolve("t10k-images-idx3-ubyte.gz");
        Files.write(file, Arrays.copyOf(compressed, compressed.length / 2));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> FashionMnist.readImages(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedHeaderIsReported(@TempDir Path temp) throws IOException {
        Path file = temp.resolve("train-labels-idx1-ubyte");
        Files.write(file, new byte[] {0, 0, 8, 1, 0, 0});
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> FashionMnist.readLabels(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("truncated header"),
                e.getMessage());
    }

    @Test
    void wrongMagicNumberNamesTheFile(@TempDir Path temp) throws IOException {
        Path file = temp.resolve("train-images-idx3-ubyte");
        Files.write(file, labelsIdx(LABELS)); // a label file where images are expected
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> FashionMnist.readImages(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("wrong magic number 0x00000801"), e.getMessage());
    }

    @Test
    void mismatchedCountsAndMissingFilesAreReported(@TempDir Path temp) throws IOException {
        Files.write(temp.resolve("train-images-idx3-ubyte"), imagesIdx(3, 2, 2, PIXELS));
        NoSuchFileException missing = assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(temp, FashionMnist.Split.TRAIN, 2));
        assertTrue(missing.getMessage().contains("train-labels-idx1-ubyte"), missing.getMessage());

        Files.write(temp.resolve("train-labels-idx1-ubyte"), labelsIdx(new byte[] {1, 2}));
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> FashionMnist.load(temp, FashionMnist.Split.TRAIN, 2));
        assertTrue(e.getMessage().contains("2 labels") && e.getMessage().contains("3 images"), e.getMessage());

        assertThrows(NoSuchFileException.class,
                () -> FashionMnist.load(temp.resolve("absent"), FashionMnist.Split.TEST, 28));
    }
}
