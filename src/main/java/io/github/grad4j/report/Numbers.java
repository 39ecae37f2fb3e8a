package io.github.grad4j.report;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/** Consistent, human-oriented number formatting shared by tables, plots and progress lines. */
public final class Numbers {

    private Numbers() {}

    /**
     * Formats {@code value} with {@code digits} significant digits, keeping trailing zeros so that a
     * column of numbers shows the same precision ({@code sig(0.5, 3) = "0.500"}). Magnitudes below
     * 1e-4 or at/above 1e6 use compact scientific notation ({@code "1.23e-7"}).
     *
     * @param nanText text used for NaN (callers choose e.g. {@code "diverged"} or {@code "n/a"})
     */
    public static String sig(double value, int digits, String nanText) {
        if (digits < 1) {
            throw new IllegalArgumentException("digits must be >= 1, got " + digits);
        }
        if (Double.isNaN(value)) {
            return nanText;
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        if (value == 0) {
            return digits == 1 ? "0" : "0." + "0".repeat(digits - 1);
        }
        BigDecimal rounded = new BigDecimal(value).round(new MathContext(digits, RoundingMode.HALF_EVEN));
        double magnitude = Math.abs(rounded.doubleValue());
        if (magnitude >= 1e-4 && magnitude < 1e6) {
            // Keep exactly `digits` significant digits, even if that means trailing zeros.
            int scale = digits - 1 - exponentOf(rounded);
            return rounded.setScale(Math.max(scale, 0), RoundingMode.HALF_EVEN).toPlainString();
        }
        return scientific(rounded, digits);
    }

    /** {@link #sig(double, int, String)} with {@code "NaN"} for NaN. */
    public static String sig(double value, int digits) {
        return sig(value, digits, "NaN");
    }

    /** Fixed number of decimals, e.g. {@code fixed(0.12345, 2) = "0.12"}; NaN becomes {@code nanText}. */
    public static String fixed(double value, int decimals, String nanText) {
        if (Double.isNaN(value)) {
            return nanText;
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        return stripNegativeZero(new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString());
    }

    /**
     * Compact SI formatting for rates and counts: {@code 950}, {@code 15.2k}, {@code 1.23M}, {@code 4.00G}.
     * Three significant digits are enough to compare throughputs at a glance.
     */
    public static String si(double value) {
        if (!Double.isFinite(value)) {
            return Double.isNaN(value) ? "n/a" : (value > 0 ? "inf" : "-inf");
        }
        double magnitude = Math.abs(value);
        String[] suffixes = {"", "k", "M", "G", "T", "P"};
        int index = 0;
        while (magnitude >= 999.5 && index < suffixes.length - 1) {
            magnitude /= 1000;
            value /= 1000;
            index++;
        }
        if (index == 0) {
            return magnitude >= 100 ? fixed(value, 0, "n/a") : sig(value, 3);
        }
        return sig(value, 3) + suffixes[index];
    }

    /** Durations as {@code 45s}, {@code 1m02s}, {@code 2h03m04s}; negative or NaN gives {@code "?"}. */
    public static String duration(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) {
            return "?";
        }
        long total = Math.round(seconds);
        long hours = total / 3600;
        long minutes = (total % 3600) / 60;
        long secs = total % 60;
        if (hours > 0) {
            return String.format("%dh%02dm%02ds", hours, minutes, secs);
        }
        if (minutes > 0) {
            return String.format("%dm%02ds", minutes, secs);
        }
        return secs + "s";
    }

    /** Decimal exponent of a non-zero value: 123 -> 2, 0.05 -> -2. */
    static int exponentOf(BigDecimal value) {
        return value.precision() - value.scale() - 1;
    }

    private static String scientific(BigDecimal rounded, int digits) {
        int exponent = exponentOf(rounded);
        BigDecimal mantissa = rounded.movePointLeft(exponent).setScale(digits - 1, RoundingMode.HALF_EVEN);
        return mantissa.toPlainString() + "e" + exponent;
    }

    static String stripNegativeZero(String text) {
        return text.matches("-0(\\.0*)?") ? text.substring(1) : text;
    }
}
