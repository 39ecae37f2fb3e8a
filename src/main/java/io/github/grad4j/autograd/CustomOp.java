package io.github.grad4j.autograd;

import io.github.grad4j.tensor.Tensor;

/**
 * Defining an op outside the core op classes: compute the forward result (typically under
 * {@link GradMode#noGrad()} or with detached inputs), then attach a backward rule with
 * {@link #record}. Write the rule in differentiable tensor ops so that second derivatives work;
 * if it is not differentiable, use {@link #recordFirstOrderOnly} so a second derivative fails
 * loudly instead of being silently wrong.
 */
public final class CustomOp {
    private CustomOp() {
    }

    /** Attaches {@code backward} to {@code out} when recording is on and an input requires a gradient. */
    public static Tensor record(Tensor out, String op, Tensor[] inputs, Node.Backward backward) {
        if (shouldRecord(inputs)) out.withGradFn(new Node(op, inputs, backward, true));
        return out;
    }

    /** As {@link #record}, for a backward rule that must not be differentiated again. */
    public static Tensor recordFirstOrderOnly(Tensor out, String op, Tensor[] inputs, Node.Backward backward) {
        if (shouldRecord(inputs)) out.withGradFn(new Node(op, inputs, backward, false));
        return out;
    }

    private static boolean shouldRecord(Tensor[] inputs) {
        if (!GradMode.isEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }
}
