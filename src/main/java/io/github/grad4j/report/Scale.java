package io.github.grad4j.report;

import java.util.ArrayList;
import java.util.List;

/** Maps data values onto a unit interval, linearly or logarithmically, and supplies matching ticks. */
final class Scale {

    private final boolean log;
    private final double low;   // in transformed space (log10 for log scales)
    private final double high;
    private final Ticks.TickSet ticks;
    private final List<Double> minorTicks;

    private Scale(boolean log, double low, double high, Ticks.TickSet ticks, List<Double> minorTicks) {
        this.log = log;
        this.low = low;
        this.high = high;
        this.ticks = ticks;
        this.minorTicks = minorTicks;
    }

    /**
     * Linear scale over data {@code [min, max]} padded by {@code padFraction} of the span on each
     * side, so points do not sit on the frame.
     */
    static Scale linear(double min, double max, double padFraction) {
        if (min == max) {
            Ticks.TickSet widened = Ticks.linear(min, max);
            min = widened.values().get(0);
            max = widened.values().get(widened.values().size() - 1);
        }
        double pad = (max - min) * padFraction;
        double low = min - pad;
        double high = max + pad;
        return new Scale(false, low, high, Ticks.linear(low, high), List.of());
    }

    /** Linear scale with fixed ticks (for example bars that should end on a tick). */
    static Scale linearExact(double low, double high, Ticks.TickSet ticks) {
        return new Scale(false, low, high, ticks, List.of());
    }

    /**
     * Log10 scale over positive data {@code [min, max]}, padded by {@code padFraction} of the span in
     * log space. If fewer than two whole decades fall inside, the range is widened to whole decades
     * so that at least two labelled ticks are always visible; 2..9 x 10^k become minor ticks.
     */
    static Scale log10(double min, double max, double padFraction) {
        if (!(min > 0) || !(max >= min)) {
            throw new IllegalArgumentException("log scale needs 0 < min <= max, got [" + min + ", " + max + "]");
        }
        double pad = Math.max(Math.log10(max) - Math.log10(min), 0.5) * padFraction;
        double low = Math.log10(min) - pad;
        double high = Math.log10(max) + pad;
        int lowDecade = (int) Math.ceil(low);
        int highDecade = (int) Math.floor(high);
        if (highDecade - lowDecade < 1) {
            lowDecade = (int) Math.floor(low);
            highDecade = Math.max((int) Math.ceil(high), lowDecade + 1);
            low = lowDecade;
            high = highDecade;
        }
        Ticks.TickSet ticks = Ticks.log(Math.pow(10, low), Math.pow(10, high));
        List<Double> minor = new ArrayList<>();
        if (high - low <= 6) { // more decades than that and minor ticks just clutter
            for (int k = lowDecade - 1; k <= highDecade; k++) {
                for (int m = 2; m <= 9; m++) {
                    double value = m * Math.pow(10, k);
                    double exponent = Math.log10(value);
                    if (exponent >= low && exponent <= high && !ticks.values().contains(value)) {
                        minor.add(value);
                    }
                }
            }
        }
        return new Scale(true, low, high, ticks, minor);
    }

    boolean isLog() {
        return log;
    }

    /** Position of {@code value} on [0, 1] (may fall outside for out-of-range data). */
    double unit(double value) {
        double transformed = log ? Math.log10(value) : value;
        return (transformed - low) / (high - low);
    }

    Ticks.TickSet ticks() {
        return ticks;
    }

    /** Axis description for drawing. */
    AxisModel axisModel() {
        List<AxisModel.Tick> major = new ArrayList<>();
        for (int i = 0; i < ticks.values().size(); i++) {
            major.add(new AxisModel.Tick(unit(ticks.values().get(i)), ticks.labels().get(i)));
        }
        List<Double> minor = new ArrayList<>();
        for (double value : minorTicks) {
            minor.add(unit(value));
        }
        return new AxisModel(major, minor, false);
    }
}
