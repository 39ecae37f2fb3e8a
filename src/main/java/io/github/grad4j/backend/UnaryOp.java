package io.github.grad4j.backend;

/**
 * Elementwise functions of one argument that every backend implements. {@code a} and {@code b}
 * are scalar parameters for the ops that take them (documented per constant).
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, ABS, TANH, SIGMOID,
    /** log(1 + exp(x)), computed without overflow. */
    SOFTPLUS,
    RELU,
    /** 1 where x &gt; 0, else 0 (the derivative of relu; piecewise constant). */
    STEP,
    /** -1, 0 or 1 (the derivative of abs). */
    SIGN,
    /** GPT-2's GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    GELU_TANH,
    /** x raised to the constant power a. */
    POW_SCALAR,
    /** min(max(x, a), b). */
    CLAMP,
    /** 1 where a &lt;= x &lt;= b, else 0 (the derivative of clamp). */
    INSIDE,
    /** Round half to even, as torch.round and IEEE rounding do. */
    ROUND,
    FLOOR,
    /** Constant a everywhere (used to build masks and fills). */
    FILL
}
