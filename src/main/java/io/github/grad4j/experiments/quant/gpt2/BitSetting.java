package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.experiments.quant.QuantConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Weight and activation bit widths, written "W4A8" (weights 4 bits, activations 8 bits).
 *
 * @param weightBits     bits of every linear layer's weight (per output channel)
 * @param activationBits bits of every linear layer's input (per tensor)
 */
public record BitSetting(int weightBits, int activationBits) {
    private static final Pattern FORMAT = Pattern.compile("w(\\d+)a(\\d+)");

    /** Checks both widths against the quantizer's supported range. */
    public BitSetting {
        check("weight", weightBits);
        check("activation", activationBits);
    }

    private static void check(String what, int bits) {
        if (bits < QuantConfig.MIN_BITS || bits > QuantConfig.MAX_BITS) {
            throw new IllegalArgumentException(what + " bits = " + bits + " is out of range [" + QuantConfig.MIN_BITS + ", "
                    + QuantConfig.MAX_BITS + "]");
        }
    }

    /** "W8A8" (case-insensitive), or an error showing the expected form. */
    public static BitSetting parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("bit setting '" + text + "' is not of the form W<bits>A<bits>, e.g. W8A8 or W4A8");
        }
        try {
            return new BitSetting(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bit setting '" + text + "': bit width too large");
        }
    }

    /** A comma-separated list, e.g. "W8A8,W4A8". */
    public static List<BitSetting> parseList(String text) {
        List<BitSetting> out = new ArrayList<>();
        for (String part : text.split(",")) if (!part.isBlank()) out.add(parse(part));
        if (out.isEmpty()) throw new IllegalArgumentException("no bit setting in '" + text + "'");
        return out;
    }

    /** "W8A8". */
    public String label() {
        return "W" + weightBits + "A" + activationBits;
    }

    @Override
    public String toString() {
        return label();
    }
}
