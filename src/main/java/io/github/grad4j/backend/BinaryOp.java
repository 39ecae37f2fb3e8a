package io.github.grad4j.backend;

/** Elementwise functions of two arguments (same shape after broadcasting). Comparisons give 1 or 0. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV,
    /** a raised to the power b. */
    POW,
    MAX, MIN,
    GT, GE, LT, LE, EQ, NE,
    /**
     * a where b &gt; 0, else 0: ReLU's backward (the gradient a passes where the input b was
     * positive) in one pass; 0 also where a is infinite or NaN and b is not positive, as in PyTorch.
     */
    RELU_BACKWARD
}
