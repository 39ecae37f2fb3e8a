package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FigureTest {

    @TempDir
    Path dir;

    private BufferedImage writeAndRead(Figure<?> figure, String name) throws IOException {
        Path file = dir.resolve("nested/plots").resolve(name);
        figure.writePng(file);
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, "ImageIO could not read " + file);
        try (Stream<Path> siblings = Files.list(file.getParent())) {
            assertTrue(siblings.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp file left behind");
        }
        return image;
    }

    private static int distinctColours(BufferedImage image) {
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                colours.add(image.getRGB(x, y) & 0xFFFFFF);
            }
        }
        return colours.size();
    }

    /** Pixels within a small per-channel distance of {@code colour} (anti-aliasing blurs edges only). */
    private static int pixelsNear(BufferedImage image, Color colour, int tolerance) {
        int count = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                if (Math.abs(((rgb >> 16) & 0xFF) - colour.getRed()) <= tolerance
                        && Math.abs(((rgb >> 8) & 0xFF) - colour.getGreen()) <= tolerance
                        && Math.abs((rgb & 0xFF) - colour.getBlue()) <= tolerance) {
                    count++;
                }
            }
        }
        return count;
    }

    private static void assertSeriesColoursPresent(BufferedImage image, int seriesCount) {
        for (int i = 0; i < seriesCount; i++) {
            int pixels = pixelsNear(image, Palette.color(i), 10);
            int index = i;
            assertTrue(pixels >= 30, () -> "series " + index + " colour has only " + pixels + " pixels");
        }
    }

    @Test
    void renderingNeedsNoDisplay() {
        PlotGallery.lossCurves().render();
        assertTrue(GraphicsEnvironment.isHeadless());
    }

    @Test
    void linePlotWithLogAxisBandAndDivergence() throws IOException {
        BufferedImage image = writeAndRead(PlotGallery.lossCurves(), "loss.png");
        assertEquals(Figure.DEFAULT_WIDTH, image.getWidth());
        assertEquals(Figure.DEFAULT_HEIGHT, image.getHeight());
        assertTrue(distinctColours(image) > 50);
        assertSeriesColoursPresent(image, 3);
    }

    @Test
    void logLogPlotWithMarkersAtCustomSize() throws IOException {
        BufferedImage image = writeAndRead(PlotGallery.learningRateSweep().size(640, 480), "lr.png");
        assertEquals(640, image.getWidth());
        assertEquals(480, image.getHeight());
        assertSeriesColoursPresent(image, 3);
    }

    @Test
    void divergenceMarkChangesTheImage() {
        double[] y = {3, 2, 1.5, Double.NaN, Double.NaN};
        BufferedImage marked = new LinePlot().series("run", y).render();
        BufferedImage unmarked = new LinePlot().series("run", y).markDivergence(false).render();
        assertFalse(sameImage(marked, unmarked), "the 'x' (and its legend row) should be drawn");
    }

    @Test
    void nanAndInfinityBreakTheLineWithoutFailing() {
        double[] y = {1, Double.NaN, 2, Double.POSITIVE_INFINITY, 3, Double.NEGATIVE_INFINITY};
        BufferedImage image = new LinePlot().series("gappy", y).series("all-nan", new double[] {Double.NaN}).render();
        assertTrue(pixelsNear(image, Palette.color(0), 10) > 0);
    }

    @Test
    void logAxisRejectsNonPositiveValuesNamingSeriesAndValue() {
        LinePlot plot = new LinePlot().logY(true).series("ok", new double[] {1, 2}).series("bad run", new double[] {1, -0.5});
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, plot::render);
        assertTrue(error.getMessage().contains("'bad run'"), error.getMessage());
        assertTrue(error.getMessage().contains("-0.5"), error.getMessage());

        ScatterPlot scatter = new ScatterPlot().logX(true).series("zero-x", new double[] {0, 1}, new double[] {1, 2});
        IllegalArgumentException xError = assertThrows(IllegalArgumentException.class, scatter::render);
        assertTrue(xError.getMessage().contains("'zero-x'") && xError.getMessage().contains("0.0"), xError.getMessage());
    }

    @Test
    void heatMapWithNanCellsAndColourBar() throws IOException {
        BufferedImage image = writeAndRead(PlotGallery.bitsByLearningRate(), "heat.png");
        assertEquals(900, image.getWidth());
        // Grey NaN fill, and both ends of viridis (darkest cell and the colour bar's yellow end).
        assertTrue(pixelsNear(image, new Color(0xDDDDDD), 2) > 500, "NaN cells should be drawn grey");
        assertTrue(pixelsNear(image, ColorMap.VIRIDIS.at(1), 3) > 100, "brightest colour missing");
        assertTrue(pixelsNear(image, ColorMap.VIRIDIS.at(0), 3) > 100, "darkest colour missing");
    }

    @Test
    void heatMapLinearScaleAllNanAndLogRejection() {
        double[][] values = {{Double.NaN, Double.NaN}, {Double.NaN, Double.NaN}};
        BufferedImage allDiverged = new HeatMap().values(values).annotate(true).render();
        assertTrue(pixelsNear(allDiverged, new Color(0xDDDDDD), 2) > 1000);

        HeatMap negative = new HeatMap().values(new double[][] {{1, -2}}).logColor(true).columnLabels("a", "b");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, negative::render);
        assertTrue(error.getMessage().contains("-2.0") && error.getMessage().contains("'b'"), error.getMessage());
    }

    @Test
    void barChartWithErrorBarsAndRotatedLabels() throws IOException {
        BufferedImage image = writeAndRead(PlotGallery.accuracyByDataset(), "bars.png");
        assertSeriesColoursPresent(image, 3);
        // Bars are large solid areas of the exact series colour.
        assertTrue(pixelsNear(image, Palette.color(0), 0) > 5000);
    }

    @Test
    void barChartHandlesNegativeValues() {
        BufferedImage image = new BarChart().categories("a", "b").series("delta", new double[] {-0.3, 0.7}).render();
        assertTrue(pixelsNear(image, Palette.color(0), 0) > 2000);
    }

    @Test
    void scatterPlotWithPointLabels() throws IOException {
        BufferedImage image = writeAndRead(PlotGallery.accuracyVersusSize(), "scatter.png");
        assertSeriesColoursPresent(image, 2);
    }

    @Test
    void rejectsMismatchedSeriesLengths() {
        assertThrows(IllegalArgumentException.class, () -> new LinePlot().series("s", new double[] {1}, new double[] {1, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> new BarChart().categories("a", "b").series("s", new double[] {1}));
    }

    @Test
    void pngIsReplacedAtomically() throws IOException {
        Path file = dir.resolve("same.png");
        new LinePlot().series("a", new double[] {1, 2}).writePng(file);
        new LinePlot().size(400, 300).series("a", new double[] {1, 2}).writePng(file);
        assertEquals(400, ImageIO.read(file.toFile()).getWidth());
    }

    private static boolean sameImage(BufferedImage a, BufferedImage b) {
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                if (a.getRGB(x, y) != b.getRGB(x, y)) {
                    return false;
                }
            }
        }
        return true;
    }
}
