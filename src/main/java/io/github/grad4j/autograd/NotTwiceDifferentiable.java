package io.github.grad4j.autograd;

import io.github.grad4j.tensor.Tensor;

/**
 * Wraps a gradient produced by a backward rule that is not itself differentiable, so that a second
 * differentiation through it fails with a clear message instead of returning a wrong number.
 */
final class NotTwiceDifferentiable {
    private NotTwiceDifferentiable() {
    }

    /**
     * An alias of {@code gradient} whose backward throws. Its recorded inputs are the gradient and
     * the inputs of the op, so a later differentiation with respect to any of them reaches it.
     */
    static Tensor mark(Tensor gradient, String op, Tensor[] opInputs) {
        Tensor alias = gradient.detach();
        Tensor[] inputs = new Tensor[opInputs.length + 1];
        inputs[0] = gradient;
        System.arraycopy(opInputs, 0, inputs, 1, opInputs.length);
        Node poison = new Node(op + ".backward", inputs, g -> {
            throw new UnsupportedOperationException("the second derivative of '" + op + "' is not implemented: "
                    + "its backward rule is not differentiable (use a composite op, or a first-order method)");
        }, false);
        return alias.withGradFn(poison);
    }
}
