package io.github.grad4j.experiments.quant.gpt2;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What quantization-aware training may change after the ranges are calibrated. */
public enum QuantMode {
    /** Post-training quantization: calibrate the ranges from data, train nothing. */
    PTQ("ptq"),
    /** Train the quantizers' range parameters only; every model weight stays frozen. */
    RANGES("ranges"),
    /** Full QAT: model weights and range parameters. */
    FULL("full");

    private final String cliName;

    QuantMode(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    /** The mode named {@code name} (case-insensitive), or an error listing the valid names. */
    public static QuantMode parse(String name) {
        if (name != null) {
            for (QuantMode m : values()) if (m.cliName.equals(name.trim().toLowerCase(Locale.ROOT))) return m;
        }
        throw new IllegalArgumentException("unknown mode '" + name + "'; valid modes: "
                + Arrays.stream(values()).map(QuantMode::cliName).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return cliName;
    }
}
