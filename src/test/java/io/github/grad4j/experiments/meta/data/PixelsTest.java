package io.github.grad4j.experiments.meta.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

class PixelsTest {

    @Test
    void integerFactorDownsamplingIsThePlainBlockMean() {
        float[] source = {
                0, 1, 0, 0,
                1, 1, 0, 0,
                0, 0, 1, 1,
                0, 0, 0, 1};
        float[] resized = Pixels.resizeAreaAverage(source, 4, 4, 2, 2);
        assertArrayEquals(new float[] {0.75f, 0f, 0f, 0.75f}, resized, 1e-6f);
    }

    @Test
    void fractionalFootprintsWeighBorderPixelsByTheirCoveredArea() {
        // 3 -> 2 pixels: target 0 covers source 0 fully and half of source 1.
        float[] source = {1f, 0.5f, 0f};
        float[] resized = Pixels.resizeAreaAverage(source, 1, 3, 1, 2);
        assertEquals((1f + 0.5f * 0.5f) / 1.5f, resized[0], 1e-6f);
        assertEquals((0.5f * 0.5f + 0f) / 1.5f, resized[1], 1e-6f);
    }

    @Test
    void omniglotSizeToTwentyEightMapsFifteenPixelBlocksToFourPixelBlocksExactly() {
        // 105 / 28 = 3.75, so 15 source pixels are exactly 4 target pixels.
        float[] source = new float[105 * 105];
        for (int y = 0; y < 15; y++) {
            for (int x = 0; x < 15; x++) {
                source[y * 105 + x] = 1f;
            }
        }
        float[] resized = Pixels.resizeAreaAverage(source, 105, 105, 28, 28);
        assertEquals(28 * 28, resized.length);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                assertEquals(y < 4 && x < 4 ? 1f : 0f, resized[y * 28 + x], 1e-6f, "pixel " + y + "," + x);
            }
        }
    }

    @Property(tries = 60)
    void resizingKeepsRangeAndMean(@ForAll @IntRange(min = 1, max = 40) int sourceHeight,
                                   @ForAll @IntRange(min = 1, max = 40) int sourceWidth,
                                   @ForAll @IntRange(min = 1, max = 40) int targetHeight,
                                   @ForAll @IntRange(min = 1, max = 40) int targetWidth,
                                   @ForAll long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] source = new float[sourceHeight * sourceWidth];
        double sourceSum = 0;
        for (int i = 0; i < source.length; i++) {
            source[i] = random.nextInt(4) == 0 ? 1f : (float) random.nextDouble();
            sourceSum += source[i];
        }
        float[] target = Pixels.resizeAreaAverage(source, sourceHeight, sourceWidth, targetHeight, targetWidth);
        assertEquals(targetHeight * targetWidth, target.length);
        double targetSum = 0;
        for (float v : target) {
            assertTrue(v >= 0f && v <= 1f, "value " + v + " outside [0, 1]");
            targetSum += v;
        }
        // Area averaging preserves the mean intensity.
        assertEquals(sourceSum / source.length, targetSum / target.length, 1e-5);
    }

    @Test
    void rejectsSourceOfWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Pixels.resizeAreaAverage(new float[10], 3, 3, 2, 2));
        assertTrue(e.getMessage().contains("10"), e.getMessage());
    }

    @Test
    void rotationsTurnClockwiseAndComposeToIdentity() {
        byte[] image = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        assertArrayEquals(new byte[] {7, 4, 1, 8, 5, 2, 9, 6, 3}, Pixels.rotateSquare(image, 3, 90));
        assertArrayEquals(Pixels.rotateSquare(Pixels.rotateSquare(image, 3, 90), 3, 90),
                Pixels.rotateSquare(image, 3, 180));
        assertArrayEquals(Pixels.rotateSquare(Pixels.rotateSquare(image, 3, 180), 3, 90),
                Pixels.rotateSquare(image, 3, 270));
        assertArrayEquals(image, Pixels.rotateSquare(Pixels.rotateSquare(image, 3, 270), 3, 90));
        assertThrows(IllegalArgumentException.class, () -> Pixels.rotateSquare(image, 3, 45));
    }

    @Test
    void byteEncodingKeepsZeroAndOneExactAndRoundsTheRest() {
        float[] decoded = Pixels.decode(Pixels.encode(new float[] {0f, 1f, 0.5f, 0.2667f}));
        assertEquals(0f, decoded[0]);
        assertEquals(1f, decoded[1]);
        assertEquals(0.5f, decoded[2], 0.501f / 255f); // at most half a quantisation step
        assertEquals(0.2667f, decoded[3], 0.501f / 255f); // at most half a quantisation step
        assertThrows(IllegalArgumentException.class, () -> Pixels.encode(new float[] {1.5f}));
        assertThrows(IllegalArgumentException.class, () -> Pixels.encode(new float[] {Float.NaN}));
    }
}
