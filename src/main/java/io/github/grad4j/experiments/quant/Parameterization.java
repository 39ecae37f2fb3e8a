package io.github.grad4j.experiments.quant;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * How the quantization range is parameterized for learning (You et al., arXiv 2404.16898).
 * The forward output is the same for equivalent states; what differs is the gradient each
 * parameter receives, and so how fast and how stably the range moves.
 */
public enum Parameterization {
    /** Learn scale s and real-valued offset z directly (LSQ+, AIMET v2 encodings). */
    SCALE_OFFSET("scale-offset", ZeroPointRounding.STE),
    /** Learn theta_min and theta_max; s = (max - min)/N, z = -min/s (AIMET v2 MinMaxQuantizer). */
    MIN_MAX("min-max", ZeroPointRounding.STE),
    /** theta_min = beta * min(x), theta_max = gamma * max(x), data extremes detached; sigmoid-free. */
    BETA_GAMMA("beta-gamma", ZeroPointRounding.STE),
    /**
     * OmniQuant's original form: theta_min = sigmoid(beta) * min(x), theta_max = sigmoid(gamma) * max(x),
     * with a plain (gradient-free) round of the zero point.
     */
    BETA_GAMMA_SIGMOID("beta-gamma-sigmoid", ZeroPointRounding.PLAIN);

    private final String cliName;
    private final ZeroPointRounding defaultRounding;

    Parameterization(String cliName, ZeroPointRounding defaultRounding) {
        this.cliName = cliName;
        this.defaultRounding = defaultRounding;
    }

    /** The name used on the command line and in CSV files ("min-max"). */
    public String cliName() {
        return cliName;
    }

    /** The zero-point rounding its reference implementation uses. */
    public ZeroPointRounding defaultZeroPointRounding() {
        return defaultRounding;
    }

    /** Whether the range is relative to the data's min/max (beta/gamma, with or without sigmoid). */
    public boolean isRelativeToData() {
        return this == BETA_GAMMA || this == BETA_GAMMA_SIGMOID;
    }

    /**
     * The parameterization named {@code name} (case-insensitive; '_' and '-' are interchangeable),
     * or an error listing the valid names.
     */
    public static Parameterization parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase().replace('_', '-');
            for (Parameterization p : values()) if (p.cliName.equals(n)) return p;
        }
        throw new IllegalArgumentException("unknown parameterization '" + name + "'; valid names: "
                + Arrays.stream(values()).map(Parameterization::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
