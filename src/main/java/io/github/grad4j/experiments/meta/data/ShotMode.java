package io.github.grad4j.experiments.meta.data;

/**
 * How many support images ("shots") each class of an episode gets.
 */
public enum ShotMode {
    /** Every class gets exactly K shots (the standard N-way K-shot episode). */
    FIXED,
    /**
     * Class imbalance: each class draws its own shot count from U{1..maxShots}, capped at the class's
     * images minus the queries.
     */
    CLASS_IMBALANCED,
    /**
     * Task imbalance: one shot count per episode, drawn from U{1..maxShots} (capped so that every
     * chosen class still has room for its queries), shared by all classes.
     */
    TASK_IMBALANCED,
    /**
     * Bayesian-TAML's "any-shot" tasks: with probability 1/2 a {@link #CLASS_IMBALANCED} episode,
     * otherwise a {@link #TASK_IMBALANCED} one. {@link Episode#drawnShotMode()} records which.
     */
    ANY_SHOT
}
