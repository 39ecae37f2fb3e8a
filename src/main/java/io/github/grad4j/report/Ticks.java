package io.github.grad4j.report;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;

/**
 * "Nice" axis tick generation: linear ticks are multiples of 1, 2 or 5 x 10^k, logarithmic ticks sit
 * at whole decades and are labelled {@code 10^k} with Unicode superscripts.
 */
public final class Ticks {

    /** Smallest and largest tick counts {@link #linear} ever returns. */
    public static final int MIN_TICKS = 3;
    /** See {@link #MIN_TICKS}. */
    public static final int MAX_TICKS = 10;

    private static final int[] NICE_MANTISSAS = {1, 2, 5};

    /**
     * A set of ticks with a common step {@code mantissa x 10^exponent} (mantissa in {1, 2, 5}).
     *
     * @param values ascending tick values, all inside the requested range
     * @param labels formatted labels, same order and size as {@code values}
     */
    public record TickSet(double step, int mantissa, int exponent, List<Double> values, List<String> labels) {}

    private Ticks() {}

    /** Linear ticks for {@code [min, max]} aiming at about six ticks. */
    public static TickSet linear(double min, double max) {
        return linear(min, max, 6);
    }

    /**
     * Linear ticks for {@code [min, max]}: between {@value #MIN_TICKS} and {@value #MAX_TICKS} ticks,
     * the count closest to {@code target}. A degenerate range (min == max) is widened by 5% of its
     * magnitude (or to [-1, 1] around zero) so a single value still gets a readable axis.
     */
    public static TickSet linear(double min, double max, int target) {
        if (!Double.isFinite(min) || !Double.isFinite(max) || min > max) {
            throw new IllegalArgumentException("tick range must be finite with min <= max, got [" + min + ", " + max + "]");
        }
        double magnitude = Math.max(Math.abs(min), Math.abs(max));
        // A span at the level of rounding noise cannot be divided into distinct ticks.
        if (max - min <= magnitude * 1e-12) {
            double half = magnitude == 0 ? 1 : magnitude * 0.05;
            min -= half;
            max += half;
        }
        int baseExponent = (int) Math.floor(Math.log10(max - min));
        TickSet best = null;
        // Candidates ascend by factors of at most 2.5, from span/100 up to span*5, so one of them
        // always yields a count in [MIN_TICKS, MAX_TICKS] (see class tests).
        for (int exponent = baseExponent - 2; exponent <= baseExponent + 1; exponent++) {
            for (int mantissa : NICE_MANTISSAS) {
                TickSet candidate = withStep(min, max, mantissa, exponent);
                int count = candidate.values().size();
                if (count < MIN_TICKS || count > MAX_TICKS) {
                    continue;
                }
                // Ties go to the larger (later) step: fewer, rounder labels.
                if (best == null || Math.abs(count - target) <= Math.abs(best.values().size() - target)) {
                    best = candidate;
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("no nice ticks for [" + min + ", " + max + "]");
        }
        return best;
    }

    /** All multiples of {@code mantissa x 10^exponent} inside {@code [min, max]}, labelled consistently. */
    public static TickSet withStep(double min, double max, int mantissa, int exponent) {
        double step = scaled(mantissa, exponent);
        List<Double> values = new ArrayList<>();
        double first = Math.ceil(min / step);
        double last = Math.floor(max / step);
        if (last - first > 1000) {
            return new TickSet(step, mantissa, exponent, List.of(), List.of());
        }
        for (double i = first; i <= last; i++) {
            // i*mantissa is an exact integer, so this is the correctly rounded decimal (0.3, not 0.30000000000000004).
            double value = scaled(i * mantissa, exponent);
            if (value >= min && value <= max) {
                values.add(value == 0 ? 0.0 : value);
            }
        }
        return new TickSet(step, mantissa, exponent, values, labels(values, exponent));
    }

    /**
     * Decade ticks for a log axis spanning {@code 10^minExponent .. 10^maxExponent}. With more than
     * ten decades every n-th decade is labelled so the labels stay legible.
     */
    public static TickSet logDecades(int minExponent, int maxExponent) {
        if (minExponent > maxExponent) {
            throw new IllegalArgumentException("minExponent > maxExponent: " + minExponent + " > " + maxExponent);
        }
        int stride = Math.max(1, (int) Math.ceil((maxExponent - minExponent) / 8.0));
        List<Double> values = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (int k = minExponent; k <= maxExponent; k += stride) {
            values.add(Math.pow(10, k));
            labels.add(powerOfTen(k));
        }
        return new TickSet(Math.pow(10, stride), 1, stride, values, labels);
    }

    /**
     * Ticks for a log axis covering {@code [min, max]} (both positive): the whole decades inside the
     * range, or, when fewer than three decades fit, the 1-2-5 values inside it so that short log
     * ranges still get several labels. In the 1-2-5 case {@code step} is NaN (steps are not uniform)
     * and moderate magnitudes are labelled as plain numbers ({@code 0.2, 0.5, 1, 2}).
     */
    public static TickSet log(double min, double max) {
        if (!(min > 0) || !(max >= min) || Double.isInfinite(max)) {
            throw new IllegalArgumentException("log ticks need 0 < min <= max < inf, got [" + min + ", " + max + "]");
        }
        int lowDecade = (int) Math.ceil(Math.log10(min) - 1e-9);
        int highDecade = (int) Math.floor(Math.log10(max) + 1e-9);
        if (highDecade - lowDecade >= 2) {
            return logDecades(lowDecade, highDecade);
        }
        List<Double> values = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        boolean plain = lowDecade - 1 >= -3 && highDecade <= 4;
        for (int k = lowDecade - 1; k <= highDecade; k++) {
            for (int m : NICE_MANTISSAS) {
                double value = scaled(m, k);
                if (value >= min * (1 - 1e-9) && value <= max * (1 + 1e-9)) {
                    values.add(value);
                    if (plain) {
                        labels.add(new BigDecimal(m).scaleByPowerOfTen(k).stripTrailingZeros().toPlainString());
                    } else {
                        labels.add(m == 1 ? powerOfTen(k) : m + "\u00D7" + powerOfTen(k));
                    }
                }
            }
        }
        return new TickSet(Double.NaN, 0, 0, values, labels);
    }

    /** {@code "10"} followed by the exponent in Unicode superscripts, e.g. {@code 10⁻³}. */
    public static String powerOfTen(int exponent) {
        return "10" + superscript(exponent);
    }

    /** Renders an integer with Unicode superscript digits and minus sign. */
    public static String superscript(int value) {
        String digits = "\u2070\u00B9\u00B2\u00B3\u2074\u2075\u2076\u2077\u2078\u2079";
        StringBuilder out = new StringBuilder();
        for (char c : Integer.toString(value).toCharArray()) {
            out.append(c == '-' ? '\u207B' : digits.charAt(c - '0'));
        }
        return out.toString();
    }

    /**
     * Labels ticks: plain decimals with a common number of decimals for moderate magnitudes
     * ({@code 0, 0.2, 0.4}); otherwise compact scientific notation per tick ({@code 1.5e8, 2e8}),
     * which needs no offset text next to the axis.
     */
    static List<String> labels(List<Double> values, int stepExponent) {
        double largest = 0;
        for (double v : values) {
            largest = Math.max(largest, Math.abs(v));
        }
        List<String> labels = new ArrayList<>(values.size());
        boolean plain = stepExponent >= -4 && largest < 1e6;
        for (double v : values) {
            if (v == 0) {
                labels.add("0");
            } else if (plain) {
                int decimals = Math.max(0, -stepExponent);
                labels.add(Numbers.stripNegativeZero(
                        new BigDecimal(v).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString()));
            } else {
                // Round to the step's precision first so float noise cannot add digits.
                BigDecimal rounded = new BigDecimal(v).setScale(-stepExponent, RoundingMode.HALF_EVEN).stripTrailingZeros();
                int exponent = Numbers.exponentOf(rounded);
                labels.add(rounded.movePointLeft(exponent).stripTrailingZeros().toPlainString() + "e" + exponent);
            }
        }
        return labels;
    }

    /** {@code m x 10^e}, dividing for negative e so decimal fractions round correctly. */
    private static double scaled(double m, int e) {
        return e >= 0 ? m * Math.pow(10, e) : m / Math.pow(10, -e);
    }
}
