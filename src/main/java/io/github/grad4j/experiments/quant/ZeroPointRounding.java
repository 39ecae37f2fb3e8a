package io.github.grad4j.experiments.quant;

/**
 * How the zero point z is rounded to the integer R = round(z) that the grid uses. Both give the
 * same forward output; they differ only in the gradient that reaches z (and through it the range
 * parameters), for elements that fall outside the range. Inside the range R cancels
 * (x_hat = s * round(x/s)), so neither choice matters there.
 *
 * <p>With theta_min/theta_max learned (min/max, beta/gamma), e_z = R - z:
 * <pre>
 *   region  rounding  d x_hat/d theta_max   d x_hat/d theta_min
 *   below   STE       -e_z/N                1 + e_z/N
 *   below   PLAIN     -R/N                  R/N
 *   above   STE       1 - e_z/N             e_z/N
 *   above   PLAIN     (N - R)/N             -(N - R)/N
 * </pre>
 * With STE, a clipped element pulls its own end of the range with weight about 1 and the other end
 * hardly at all; with PLAIN, the gradient moves the scale only (both ends in proportion to their
 * distance from zero), so a clipped element below the range also pushes theta_max. For
 * scale/offset, PLAIN makes d x_hat/dz = 0 everywhere: the offset never learns.
 */
public enum ZeroPointRounding {
    /** R = round(z) with the straight-through estimator dR/dz = 1 (AIMET's ste_round). */
    STE,
    /** R = round(z) as a constant, dR/dz = 0 (OmniQuant). */
    PLAIN
}
