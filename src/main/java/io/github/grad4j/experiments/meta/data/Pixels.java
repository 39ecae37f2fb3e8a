package io.github.grad4j.experiments.meta.data;

/**
 * Pixel helpers shared by the loaders: area-averaging resize, square rotations and the compact
 * one-byte-per-pixel storage format.
 *
 * <p>All images are row-major {@code float[height * width]} with values in [0, 1].
 */
public final class Pixels {

    private Pixels() {
    }

    /**
     * Resizes with area averaging (a box filter): every output pixel is the area-weighted mean of the
     * source pixels its footprint covers, so e.g. 105 -> 28 (a factor of 3.75) uses fractional
     * weights for the source pixels cut by a footprint border. This keeps thin pen strokes visible
     * as grey levels instead of dropping them as nearest-neighbour sampling would, and it preserves
     * the image mean.
     *
     * <p>The overlaps are computed in exact integer arithmetic, so the result is deterministic and
     * independent of platform. Values stay in [0, 1] when the input does (clamped to absorb rounding).
     * Upsampling also works (each output pixel then mostly copies one source pixel).
     *
     * @return a new array of {@code targetHeight * targetWidth} values
     */
    public static float[] resizeAreaAverage(float[] source, int sourceHeight, int sourceWidth,
                                            int targetHeight, int targetWidth) {
        requirePositive(sourceHeight, "sourceHeight");
        requirePositive(sourceWidth, "sourceWidth");
        requirePositive(targetHeight, "targetHeight");
        requirePositive(targetWidth, "targetWidth");
        if (source.length != sourceHeight * sourceWidth) {
            throw new IllegalArgumentException("source has " + source.length + " values, expected "
                    + sourceHeight + "x" + sourceWidth + " = " + sourceHeight * sourceWidth);
        }
        if (sourceHeight == targetHeight && sourceWidth == targetWidth) {
            return source.clone();
        }
        BoxWeights horizontal = BoxWeights.of(sourceWidth, targetWidth);
        BoxWeights vertical = BoxWeights.of(sourceHeight, targetHeight);

        // Separable filter: first shrink every row, then every column.
        double[] rowsResized = new double[sourceHeight * targetWidth];
        for (int y = 0; y < sourceHeight; y++) {
            for (int x = 0; x < targetWidth; x++) {
                double sum = 0;
                int first = horizontal.firstSource[x];
                double[] w = horizontal.weights[x];
                for (int k = 0; k < w.length; k++) {
                    sum += w[k] * source[y * sourceWidth + first + k];
                }
                rowsResized[y * targetWidth + x] = sum;
            }
        }
        float[] target = new float[targetHeight * targetWidth];
        for (int y = 0; y < targetHeight; y++) {
            int first = vertical.firstSource[y];
            double[] w = vertical.weights[y];
            for (int x = 0; x < targetWidth; x++) {
                double sum = 0;
                for (int k = 0; k < w.length; k++) {
                    sum += w[k] * rowsResized[(first + k) * targetWidth + x];
                }
                target[y * targetWidth + x] = (float) Math.min(1.0, Math.max(0.0, sum));
            }
        }
        return target;
    }

    /**
     * Rotates a square image clockwise by {@code degrees} (0, 90, 180 or 270).
     * Works on the byte storage format so that augmentation does not need to decode.
     */
    public static byte[] rotateSquare(byte[] image, int size, int degrees) {
        if (image.length != size * size) {
            throw new IllegalArgumentException("image has " + image.length + " values, expected "
                    + size + "x" + size);
        }
        byte[] rotated = new byte[image.length];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int sourceY;
                int sourceX;
                switch (degrees) {
                    case 0 -> { sourceY = y; sourceX = x; }
                    // Clockwise by 90: the target row y comes from source column y, read bottom-up.
                    case 90 -> { sourceY = size - 1 - x; sourceX = y; }
                    case 180 -> { sourceY = size - 1 - y; sourceX = size - 1 - x; }
                    case 270 -> { sourceY = x; sourceX = size - 1 - y; }
                    default -> throw new IllegalArgumentException(
                            "rotation must be 0, 90, 180 or 270 degrees, got " + degrees);
                }
                rotated[y * size + x] = image[sourceY * size + sourceX];
            }
        }
        return rotated;
    }

    /**
     * Stores values in [0, 1] as unsigned bytes (value * 255, rounded). A quarter of the memory of
     * float[]; the quantisation step 1/255 is far below anything a model can exploit, and 0 and 1
     * stay exact (so binary Omniglot pixels survive unchanged).
     */
    public static byte[] encode(float[] values) {
        byte[] bytes = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (!(v >= 0f && v <= 1f)) {
                throw new IllegalArgumentException("pixel " + i + " = " + v + " is outside [0, 1]");
            }
            bytes[i] = (byte) Math.round(v * 255f);
        }
        return bytes;
    }

    /** Inverse of {@link #encode}: unsigned byte b becomes b / 255f. */
    public static float[] decode(byte[] bytes) {
        float[] values = new float[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            values[i] = (bytes[i] & 0xFF) / 255f;
        }
        return values;
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
    }

    /** Per-axis box-filter weights: for target index t, weights over source indices first..first+n-1. */
    private record BoxWeights(int[] firstSource, double[][] weights) {

        static BoxWeights of(int sourceLength, int targetLength) {
            int[] first = new int[targetLength];
            double[][] weights = new double[targetLength][];
            // Measure positions in units of 1/(sourceLength*targetLength) so all borders are integers:
            // target pixel t covers [t*S, (t+1)*S), source pixel s covers [s*T, (s+1)*T).
            long footprint = sourceLength; // length of one target pixel in those units is S
            for (int t = 0; t < targetLength; t++) {
                long start = (long) t * sourceLength;
                long end = start + footprint;
                int firstIndex = (int) (start / targetLength);
                int lastIndex = (int) ((end - 1) / targetLength);
                double[] w = new double[lastIndex - firstIndex + 1];
                for (int s = firstIndex; s <= lastIndex; s++) {
                    long overlap = Math.min(end, (long) (s + 1) * targetLength)
                            - Math.max(start, (long) s * targetLength);
                    w[s - firstIndex] = (double) overlap / footprint;
                }
                first[t] = firstIndex;
                weights[t] = w;
            }
            return new BoxWeights(first, weights);
        }
    }
}
