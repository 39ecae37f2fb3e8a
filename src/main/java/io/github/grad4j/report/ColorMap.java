package io.github.grad4j.report;

import java.awt.Color;

/**
 * Continuous colour maps built from a small table of anchor colours with linear interpolation.
 * {@link #VIRIDIS} is perceptually uniform and readable in grey scale and by colour-blind readers.
 */
public final class ColorMap {

    /** Matplotlib's viridis sampled at 11 evenly spaced points (dark purple to yellow). */
    public static final ColorMap VIRIDIS = new ColorMap(new int[] {
            0x440154, 0x482576, 0x414487, 0x35608D, 0x2A788E, 0x21908C,
            0x22A884, 0x43BF71, 0x7AD151, 0xBBDF27, 0xFDE725});

    private final int[] anchors;

    /** A colour map through the given RGB anchors (at least two), evenly spaced over [0, 1]. */
    public ColorMap(int[] anchorsRgb) {
        if (anchorsRgb.length < 2) {
            throw new IllegalArgumentException("a colour map needs at least two anchors");
        }
        this.anchors = anchorsRgb.clone();
    }

    /** Colour at position {@code t}, clamped to [0, 1]; NaN maps to the low end. */
    public Color at(double t) {
        double clamped = Double.isNaN(t) ? 0 : Math.max(0, Math.min(1, t));
        double scaled = clamped * (anchors.length - 1);
        int lower = Math.min((int) Math.floor(scaled), anchors.length - 2);
        double fraction = scaled - lower;
        int a = anchors[lower];
        int b = anchors[lower + 1];
        return new Color(mix(a >> 16, b >> 16, fraction), mix(a >> 8, b >> 8, fraction), mix(a, b, fraction));
    }

    /** Relative luminance (WCAG) in [0, 1], used to pick black or white text on a colour. */
    public static double luminance(Color color) {
        return 0.2126 * linear(color.getRed()) + 0.7152 * linear(color.getGreen()) + 0.0722 * linear(color.getBlue());
    }

    /** Black or white, whichever contrasts more with {@code background}. */
    public static Color contrastingText(Color background) {
        // Threshold where contrast ratios against black and white are equal: sqrt(1.05*0.05)-0.05.
        return luminance(background) > 0.179 ? Color.BLACK : Color.WHITE;
    }

    private static int mix(int a, int b, double fraction) {
        int ca = a & 0xFF;
        int cb = b & 0xFF;
        return (int) Math.round(ca + (cb - ca) * fraction);
    }

    private static double linear(int channel) {
        double c = channel / 255.0;
        return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }
}
