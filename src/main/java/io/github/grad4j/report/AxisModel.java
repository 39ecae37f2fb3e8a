package io.github.grad4j.report;

import java.util.ArrayList;
import java.util.List;

/**
 * What an axis shows, independent of pixels: tick positions on [0, 1] with labels, minor ticks, and
 * whether it is categorical (labels between grid cells, no grid lines, may rotate).
 */
record AxisModel(List<Tick> major, List<Double> minor, boolean categorical) {

    /** A labelled tick at {@code position} in [0, 1] along the axis (0 = left/bottom). */
    record Tick(double position, String label) {}

    /**
     * Categories centred in equal slots. With {@code topDown} the first label is at the top of a
     * vertical axis, as rows of a matrix are read.
     */
    static AxisModel categorical(List<String> labels, boolean topDown) {
        List<Tick> ticks = new ArrayList<>();
        int n = labels.size();
        for (int i = 0; i < n; i++) {
            double centre = (i + 0.5) / n;
            ticks.add(new Tick(topDown ? 1 - centre : centre, labels.get(i)));
        }
        return new AxisModel(ticks, List.of(), true);
    }
}
