package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OmniglotLoaderTest {

    // ---- the real minimal background splits (skipped when ../shared is absent) ----

    @Test
    void small1ZipHasFiveAlphabetsAnd136CharactersWithTwentyDrawersEach() throws IOException {
        ImageDataset dataset = OmniglotLoader.load(
                SharedTestData.requireExisting(SharedTestData.omniglot("images_background_small1.zip")));
        assertEquals(5, dataset.groups().size(), dataset.groups().toString());
        assertEquals(136, dataset.classCount());
        for (ImageClass character : dataset.classes()) {
            assertEquals(20, character.imageCount(), character.displayName());
        }
        assertRealOmniglotImagesLookInverted(dataset);

        // Lake-style 20-way episodes within one alphabet are possible (Latin has 26 characters).
        EpisodeSpec lakeStyle = EpisodeSpec.fixed(20, 1, 1).withinGroup(true);
        Episode episode = new EpisodeSampler(dataset, lakeStyle, 1L).next();
        assertEquals(20, episode.supportSize());
        assertEquals(1, java.util.Arrays.stream(episode.sourceClassIds())
                .mapToObj(id -> dataset.classAt(id).group()).distinct().count());
    }

    @Test
    void small2ZipHasFiveAlphabetsAnd156Characters() throws IOException {
        ImageDataset dataset = OmniglotLoader.load(
                SharedTestData.requireExisting(SharedTestData.omniglot("images_background_small2.zip")));
        assertEquals(5, dataset.groups().size(), dataset.groups().toString());
        assertEquals(156, dataset.classCount());
        for (ImageClass character : dataset.classes()) {
            assertEquals(20, character.imageCount(), character.displayName());
        }
        assertRealOmniglotImagesLookInverted(dataset);
    }

    /** Real characters are thin strokes: mostly background (0), some full ink (1), all within [0, 1]. */
    private static void assertRealOmniglotImagesLookInverted(ImageDataset dataset) {
        assertEquals(28, dataset.height());
        assertEquals(28, dataset.width());
        for (int c = 0; c < dataset.classCount(); c += 17) {
            float[] image = dataset.image(c, 0);
            assertEquals(28 * 28, image.length);
            double sum = 0;
            float max = 0;
            for (float v : image) {
                assertTrue(v >= 0f && v <= 1f, "value " + v);
                sum += v;
                max = Math.max(max, v);
            }
            assertTrue(sum / image.length < 0.3, "mean ink " + sum / image.length + " too high: not inverted?");
            assertTrue(max > 0.9f, "no stroke pixel in " + dataset.classAt(c).displayName());
            assertEquals(0f, image[0], "corner should be background");
        }
    }

    // ---- synthetic data written to a temporary folder ----

    /** Two alphabets; every drawer image has a black 15x15 square at (0,0) or, for drawer 2, at (15,30). */
    private static Map<String, byte[]> syntheticFiles(String root) {
        Map<String, byte[]> files = new TreeMap<>();
        String[][] characters = {{"Alpha", "character01"}, {"Alpha", "character02"}, {"Beta", "character01"}};
        for (String[] character : characters) {
            String folder = root + character[0] + "/" + character[1] + "/";
            files.put(folder + "0001_01.png", TestImages.pngWithBlackRectangle(105, 0, 0, 15, 15));
            files.put(folder + "0001_02.png", TestImages.pngWithBlackRectangle(105, 15, 30, 15, 15));
        }
        return files;
    }

    private static Path writeFolder(Path base, Map<String, byte[]> files) throws IOException {
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Path path = base.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.write(path, file.getValue());
        }
        return base;
    }

    private static Path writeZip(Path zip, Map<String, byte[]> files) throws IOException {
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream zipOut = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> file : files.entrySet()) {
                zipOut.putNextEntry(new ZipEntry(file.getKey()));
                zipOut.write(file.getValue());
                zipOut.closeEntry();
            }
        }
        return zip;
    }

    @Test
    void syntheticFolderLoadsSortedAndInvertedSoInkIsOne(@TempDir Path temp) throws IOException {
        Path folder = writeFolder(temp.resolve("images_tiny"), syntheticFiles(""));
        ImageDataset dataset = OmniglotLoader.load(folder);

        assertEquals(List.of("Alpha", "Beta"), dataset.groups());
        assertEquals(3, dataset.classCount());
        assertEquals("Alpha/character02", dataset.classAt(1).displayName());
        // 105 -> 28 scales by 3.75, so the 15x15 black square becomes exactly 4x4 target pixels of ink 1.
        float[] first = dataset.image(0, 0);
        float[] second = dataset.image(0, 1);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertEquals(y < 4 && x < 4 ? 1f : 0f, first[y * 28 + x], "drawer 1 pixel " + y + "," + x);
                assertEquals(y >= 4 && y < 8 && x >= 8 && x < 12 ? 1f : 0f, second[y * 28 + x],
                        "drawer 2 pixel " + y + "," + x);
            }
        }
    }

    @Test
    void zipWithTopFolderLoadsTheSameAsTheUnpackedFolder(@TempDir Path temp) throws IOException {
        Path zip = writeZip(temp.resolve("images_tiny.zip"), syntheticFiles("images_tiny/"));
        Path folder = writeFolder(temp.resolve("unpacked"), syntheticFiles("images_tiny/"));
        ImageDataset fromZip = OmniglotLoader.load(zip);
        ImageDataset fromFolder = OmniglotLoader.load(folder);
        assertEquals(3, fromZip.classCount());
        assertEquals("omniglot:images_tiny", fromZip.name());
        for (int c = 0; c < 3; c++) {
            assertEquals(fromFolder.classAt(c).displayName(), fromZip.classAt(c).displayName());
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(fromFolder.image(c, i), fromZip.image(c, i));
            }
        }
    }

    @Test
    void imageSizeOptionResizesAndKeepsRange(@TempDir Path temp) throws IOException {
        Path folder = writeFolder(temp, syntheticFiles(""));
        ImageDataset original = OmniglotLoader.load(folder, OmniglotLoader.Options.defaults().withImageSize(105));
        ImageDataset small = OmniglotLoader.load(folder, OmniglotLoader.Options.defaults().withImageSize(20));
        assertEquals(105 * 105, original.image(0, 0).length);
        float[] image = small.image(0, 0);
        assertEquals(20 * 20, image.length);
        double sum = 0;
        for (float v : image) {
            assertTrue(v >= 0f && v <= 1f);
            sum += v;
        }
        // 105 -> 20 (factor 5.25): the 15x15 square covers 2.857 target pixels per side; area is kept.
        assertEquals(15.0 * 15.0 / (105 * 105), sum / image.length, 2.0 / 255);
    }

    @Test
    void rotationsBecomeNewClassesNextToTheirOriginal(@TempDir Path temp) throws IOException {
        Path folder = writeFolder(temp, syntheticFiles(""));
        ImageDataset dataset = OmniglotLoader.load(folder,
                OmniglotLoader.Options.defaults().withRotationsAsClasses(true));
        assertEquals(12, dataset.classCount());
        assertEquals(List.of(0, 90, 180, 270), dataset.classes().subList(0, 4).stream()
                .map(ImageClass::rotationDegrees).toList());
        assertEquals("Alpha/character01@rot90", dataset.classAt(1).displayName());
        // Ink in the top-left 4x4 corner moves to the top-right corner after a clockwise quarter turn.
        float[] rotated = dataset.image(1, 0);
        assertEquals(1f, rotated[0 * 28 + 27]);
        assertEquals(0f, rotated[0]);
    }

    @Test
    void missingPathIsReported(@TempDir Path temp) {
        Path missing = temp.resolve("no_such_omniglot.zip");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> OmniglotLoader.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void folderWithoutAlphabetsIsMalformed(@TempDir Path temp) throws IOException {
        Files.writeString(temp.resolve("README.txt"), "not omniglot");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(temp));
        assertTrue(e.getMessage().contains("no alphabet folders"), e.getMessage());
    }

    @Test
    void imagesAtMixedDepthsAreMalformed(@TempDir Path temp) throws IOException {
        Map<String, byte[]> files = syntheticFiles("");
        files.put("Alpha/stray.png", TestImages.blankPng(105));
        writeFolder(temp, files);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(temp));
        assertTrue(e.getMessage().contains("Alpha/stray.png"), e.getMessage());
    }

    @Test
    void imageDirectlyInRootIsMalformed(@TempDir Path temp) throws IOException {
        Files.write(temp.resolve("lonely.png"), TestImages.blankPng(105));
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(temp));
        assertTrue(e.getMessage().contains("lonely.png"), e.getMessage());
    }

    @Test
    void unreadableImageInZipNamesTheEntry(@TempDir Path temp) throws IOException {
        Map<String, byte[]> files = syntheticFiles("images_tiny/");
        files.put("images_tiny/Beta/character01/0001_03.png", "this is not a PNG".getBytes());
        Path zip = writeZip(temp.resolve("broken.zip"), files);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(zip));
        assertTrue(e.getMessage().contains("images_tiny/Beta/character01/0001_03.png"), e.getMessage());
        assertTrue(e.getMessage().contains("unreadable image"), e.getMessage());
    }

    @Test
    void unreadableImageInFolderNamesTheFile(@TempDir Path temp) throws IOException {
        Map<String, byte[]> files = syntheticFiles("");
        files.put("Alpha/character01/0001_03.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        writeFolder(temp, files);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(temp));
        assertTrue(e.getMessage().contains("0001_03.png"), e.getMessage());
    }

    @Test
    void fileThatIsNeitherFolderNorZipIsReported(@TempDir Path temp) throws IOException {
        Path notZip = Files.writeString(temp.resolve("omniglot.zip"), "plain text");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> OmniglotLoader.load(notZip));
        assertTrue(e.getMessage().contains(notZip.toString()), e.getMessage());
    }
}
