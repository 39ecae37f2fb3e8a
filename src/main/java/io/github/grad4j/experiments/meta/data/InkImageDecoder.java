package io.github.grad4j.experiments.meta.data;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Decodes a scanned-drawing image (PNG or anything ImageIO reads) into "ink" values: 1.0 where the
 * pixel is black (pen), 0.0 where it is white (paper). Omniglot stores black strokes on white, so
 * this is an inversion of brightness; it makes the background zero, which is what convolutional
 * models and zero padding expect.
 */
final class InkImageDecoder {

    /** A decoded image: ink values in [0, 1], row-major. */
    record InkImage(int height, int width, float[] ink) {
    }

    private InkImageDecoder() {
    }

    /**
     * @param encoded    the file's bytes
     * @param sourceName file path or archive entry, used in error messages
     */
    static InkImage decode(byte[] encoded, String sourceName) throws DatasetFormatException {
        BufferedImage image;
        // MemoryCacheImageInputStream: ImageIO.read(InputStream) would otherwise cache every
        // image in a temporary file on disk, which is slow for thousands of tiny PNGs.
        // ImageIO.read(ImageInputStream) closes the stream itself, hence no try-with-resources.
        try {
            ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded));
            image = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new DatasetFormatException("unreadable image " + sourceName + ": " + e.getMessage(), e);
        }
        if (image == null) {
            throw new DatasetFormatException("unreadable image " + sourceName
                    + ": not a format ImageIO can decode (" + encoded.length + " bytes)");
        }
        int height = image.getHeight();
        int width = image.getWidth();
        float[] ink = new float[height * width];
        Raster raster = image.getRaster();
        boolean plainGray = image.getColorModel() instanceof ComponentColorModel
                && raster.getNumBands() == 1;
        if (plainGray) {
            // 8/16-bit grey: read raw samples; getRGB would apply a gamma conversion to linear grey.
            double max = (1 << image.getColorModel().getComponentSize(0)) - 1;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    ink[y * width + x] = (float) (1.0 - raster.getSample(x, y, 0) / max);
                }
            }
        } else if (image.getColorModel() instanceof IndexColorModel palette && raster.getNumBands() == 1) {
            // 1-bit Omniglot PNGs decode with an indexed colour model: convert the (two-entry)
            // palette once instead of calling getRGB per pixel, which was most of the load time.
            float[] inkOfIndex = new float[palette.getMapSize()];
            for (int i = 0; i < inkOfIndex.length; i++) {
                int brightness = palette.getRed(i) + palette.getGreen(i) + palette.getBlue(i);
                inkOfIndex[i] = (float) (1.0 - brightness / (3.0 * 255.0));
            }
            int[] row = new int[width];
            for (int y = 0; y < height; y++) {
                raster.getSamples(0, y, width, 1, 0, row);
                for (int x = 0; x < width; x++) {
                    ink[y * width + x] = inkOfIndex[row[x]];
                }
            }
        } else {
            // Colour or other layouts: let the colour model resolve each pixel.
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int rgb = image.getRGB(x, y);
                    int brightness = ((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF);
                    ink[y * width + x] = (float) (1.0 - brightness / (3.0 * 255.0));
                }
            }
        }
        return new InkImage(height, width, ink);
    }
}
