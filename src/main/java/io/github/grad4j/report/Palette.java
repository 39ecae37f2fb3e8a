package io.github.grad4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.util.List;

/**
 * Colour-blind-friendly series colours (Okabe & Ito, 2008), ordered so that the first few are the
 * most distinct on white. The pale yellow of the original palette is left out: it is unreadable as a
 * thin line on a white background. Beyond the palette size colours repeat with a dashed line style
 * and a different marker, so series stay distinguishable.
 */
public final class Palette {

    /** The seven series colours, in the order they are assigned. */
    public static final List<Color> OKABE_ITO = List.of(
            new Color(0x0072B2), // blue
            new Color(0xD55E00), // vermillion
            new Color(0x009E73), // bluish green
            new Color(0xCC79A7), // reddish purple
            new Color(0xE69F00), // orange
            new Color(0x56B4E9), // sky blue
            new Color(0x000000)); // black

    /** Marker shapes cycled per series so series differ by more than colour alone. */
    public enum Marker { CIRCLE, SQUARE, TRIANGLE, DIAMOND, CROSS_PLUS }

    private Palette() {}

    /** Colour of the {@code index}-th series. */
    public static Color color(int index) {
        return OKABE_ITO.get(Math.floorMod(index, OKABE_ITO.size()));
    }

    /** Marker of the {@code index}-th series. */
    public static Marker marker(int index) {
        Marker[] all = Marker.values();
        return all[Math.floorMod(index, all.length)];
    }

    /** Solid for the first palette cycle, dashed patterns afterwards. */
    static BasicStroke lineStroke(int index, float width) {
        int cycle = Math.floorMod(index, 3 * OKABE_ITO.size()) / OKABE_ITO.size();
        float[][] dashes = {null, {6 * width, 3 * width}, {1.5f * width, 2.5f * width}};
        return new BasicStroke(width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 10f, dashes[cycle], 0f);
    }
}
