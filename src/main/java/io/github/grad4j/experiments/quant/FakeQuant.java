package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.CustomOp;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.ops.Pointwise;
import io.github.grad4j.tensor.Tensor;

/**
 * The differentiable pieces of asymmetric fake quantization,
 * x_hat = s * (clamp(round(x/s) + R, 0, N) - R), R = round(z), composed from engine ops so that the
 * backward (and its derivative, for meta-learning) follows from the ops' own rules. Only two new
 * rules are defined here, both identities in the backward: the straight-through round and the LSQ
 * gradient scale.
 */
public final class FakeQuant {
    private FakeQuant() {
    }

    /** round(u) (half to even) forward, identity backward: the straight-through estimator. */
    public static Tensor roundSte(Tensor u) {
        // The backward passes g on unchanged, which is itself differentiable: second derivatives work.
        return CustomOp.record(Pointwise.round(u), "roundSte", new Tensor[]{u}, g -> new Tensor[]{g});
    }

    /** R = round(z), differentiated as the chosen {@link ZeroPointRounding} says. */
    public static Tensor roundZeroPoint(Tensor z, ZeroPointRounding rounding) {
        return rounding == ZeroPointRounding.STE ? roundSte(z) : Pointwise.round(z);
    }

    /**
     * p forward, gradient multiplied by {@code factor} backward (LSQ's gradient scale). A separate op
     * rather than p*g + (p - p*g).detach(), because that sum need not give back p exactly in floating point.
     */
    public static Tensor gradScale(Tensor p, double factor) {
        if (factor == 1.0) return p;
        Tensor alias = p.detach();
        return CustomOp.record(alias, "gradScale", new Tensor[]{p}, g -> new Tensor[]{g.mul(factor)});
    }

    /**
     * Fake quantization with scale {@code scale} (positive) and integer-valued zero point
     * {@code zeroPoint}, both broadcasting against x. Gradients: 1 to x inside the range, 0 outside;
     * to scale and zero point as in the reference note's per-region table.
     */
    public static Tensor fakeQuantize(Tensor x, Tensor scale, Tensor zeroPoint, int levels) {
        Tensor index = Pointwise.clamp(roundSte(x.div(scale)).add(zeroPoint), 0, levels);
        return index.sub(zeroPoint).mul(scale);
    }

    /**
     * The unclamped grid index round(x/s) + R of every element (no graph): below 0 the element is
     * clipped to theta_min, above N to theta_max. Computed with the same operations as the forward, so
     * the regions agree with it exactly.
     */
    public static Tensor gridIndex(Tensor x, Tensor scale, Tensor zeroPoint) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return Pointwise.round(x.detach().div(scale.detach())).add(zeroPoint.detach());
        }
    }

    /** The scalar counterpart of {@link #fakeQuantize}, for range searches in plain loops. */
    public static double fakeQuantize(double x, double scale, double zeroPoint, int levels) {
        double index = Math.min(Math.max(Math.rint(x / scale) + zeroPoint, 0), levels);
        return (index - zeroPoint) * scale;
    }
}
