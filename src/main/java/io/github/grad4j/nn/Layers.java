package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;

/** Argument checks shared by the layers, so their messages have one form. */
final class Layers {
    private Layers() {
    }

    static void requirePositive(String layer, String arg, int value) {
        if (value <= 0) throw new IllegalArgumentException(layer + ": " + arg + " must be positive, got " + value);
    }

    static void requireFloat(String layer, DType dtype) {
        if (dtype == null || !dtype.isFloatingPoint()) {
            throw new IllegalArgumentException(layer + ": parameters must be FLOAT32 or FLOAT64, got " + dtype);
        }
    }
}
