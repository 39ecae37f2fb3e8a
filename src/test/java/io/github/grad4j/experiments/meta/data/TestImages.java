package io.github.grad4j.experiments.meta.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** Writes small synthetic Omniglot-like PNGs: 1-bit, black ink on white. */
final class TestImages {

    private TestImages() {
    }

    /**
     * A {@code size x size} 1-bit image that is white except for a black filled rectangle
     * rows [top, top+height), columns [left, left+width).
     */
    static byte[] pngWithBlackRectangle(int size, int top, int left, int height, int width) {
        BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_BINARY);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                boolean ink = y >= top && y < top + height && x >= left && x < left + width;
                image.setRGB(x, y, ink ? 0xFF000000 : 0xFFFFFFFF);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** An all-white (no ink) 1-bit PNG. */
    static byte[] blankPng(int size) {
        return pngWithBlackRectangle(size, 0, 0, 0, 0);
    }
}
