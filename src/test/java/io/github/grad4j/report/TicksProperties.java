package io.github.grad4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class TicksProperties {

    /**
     * Ranges of every magnitude from 1e-200 to 1e200, spans from a millionth of the magnitude to
     * thousands of times it (so many ranges cross zero).
     */
    @Property(tries = 2000)
    void linearTicksAreNiceEvenlySpacedAndInRange(
            @ForAll @DoubleRange(min = -10, max = 10) double startMantissa,
            @ForAll @IntRange(min = -200, max = 200) int magnitude,
            @ForAll @DoubleRange(min = 1, max = 10, maxIncluded = false) double spanMantissa,
            @ForAll @IntRange(min = -6, max = 3) int spanExponent) {
        double min = startMantissa * Math.pow(10, magnitude);
        double max = min + spanMantissa * Math.pow(10, magnitude + spanExponent);
        Ticks.TickSet ticks = Ticks.linear(min, max);
        List<Double> values = ticks.values();

        assertTrue(values.size() >= Ticks.MIN_TICKS && values.size() <= Ticks.MAX_TICKS,
                () -> values.size() + " ticks for [" + min + ", " + max + "]: " + values);
        double largest = Math.max(Math.abs(values.get(0)), Math.abs(values.get(values.size() - 1)));
        double tolerance = ticks.step() * 1e-9 + 4 * Math.ulp(largest);
        for (int i = 0; i < values.size(); i++) {
            double v = values.get(i);
            assertTrue(v >= min && v <= max, () -> "tick " + v + " outside [" + min + ", " + max + "]");
            if (i > 0) {
                double gap = v - values.get(i - 1);
                assertTrue(gap > 0, "ascending");
                assertEquals(ticks.step(), gap, tolerance, () -> "uneven spacing in " + values);
            }
        }
        // The step is 1, 2 or 5 times a power of ten.
        double decade = Math.pow(10, Math.floor(Math.log10(ticks.step()) + 1e-12));
        double leading = ticks.step() / decade;
        assertTrue(List.of(1.0, 2.0, 5.0).stream().anyMatch(m -> Math.abs(leading - m) < 1e-9),
                () -> "step " + ticks.step() + " is not nice");
        assertEquals(values.size(), ticks.labels().size());
        assertEquals(values.size(), ticks.labels().stream().distinct().count(), () -> "labels collide: " + ticks.labels());
    }

    @Property(tries = 500)
    void degenerateRangesStillGetTicks(@ForAll @DoubleRange(min = -1e12, max = 1e12) double value) {
        Ticks.TickSet ticks = Ticks.linear(value, value);
        assertTrue(ticks.values().size() >= Ticks.MIN_TICKS);
        assertTrue(ticks.values().get(0) <= value && value <= ticks.values().get(ticks.values().size() - 1));
    }

    @Property(tries = 1000)
    void logTicksAreAscendingInRangeAndAtLeastTwoForWideRanges(
            @ForAll @DoubleRange(min = 1, max = 10) double mantissa,
            @ForAll @IntRange(min = -250, max = 250) int exponent,
            @ForAll @DoubleRange(min = 6.25, max = 1e12) double factor) {
        double min = mantissa * Math.pow(10, exponent);
        double max = min * factor;
        Ticks.TickSet ticks = Ticks.log(min, max);
        List<Double> values = ticks.values();
        assertTrue(values.size() >= 2 && values.size() <= 10, () -> values.toString());
        for (int i = 0; i < values.size(); i++) {
            double v = values.get(i);
            assertTrue(v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9), () -> v + " outside [" + min + ", " + max + "]");
            assertTrue(i == 0 || v > values.get(i - 1), "ascending");
        }
    }

    @Example
    void decimalTicksAreLabelledWithoutFloatingPointNoise() {
        Ticks.TickSet ticks = Ticks.linear(0, 1);
        assertEquals(List.of("0", "0.2", "0.4", "0.6", "0.8", "1.0"), ticks.labels());
        assertEquals(0.6, ticks.values().get(3));
    }

    @Example
    void hugeAndTinyMagnitudesUseScientificLabels() {
        assertEquals(List.of("2e8", "4e8", "6e8", "8e8", "1e9"), Ticks.linear(1.5e8, 1e9, 5).labels());
        assertEquals(List.of("1.5e8", "1.6e8", "1.7e8"), Ticks.linear(1.5e8, 1.7e8, 3).labels());
        assertEquals(List.of("-1e-9", "-5e-10", "0", "5e-10", "1e-9"), Ticks.linear(-1e-9, 1e-9, 5).labels());
    }

    @Example
    void decadesAreLabelledWithSuperscripts() {
        assertEquals(List.of("10\u207B\u00B3", "10\u207B\u00B2", "10\u207B\u00B9", "10\u2070", "10\u00B9"),
                Ticks.logDecades(-3, 1).labels());
        assertEquals(List.of("1", "2", "5", "10"), Ticks.log(0.9, 11).labels());
    }
}
