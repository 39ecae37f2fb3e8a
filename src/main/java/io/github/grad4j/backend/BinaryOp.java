package io.github.grad4j.backend;

/** Elementwise functions of two arguments (same shape after broadcasting). Comparisons give 1 or 0. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV,
    /** a raised to the power b. */
    POW,
    MAX, MIN,
    GT, GE, LT, LE, EQ, NE
}
