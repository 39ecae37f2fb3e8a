package io.github.grad4j.backend;

/** Reductions over a set of axes. MAX and MIN can also report the index along a single axis. */
public enum ReduceOp {
    SUM, MAX, MIN
}
