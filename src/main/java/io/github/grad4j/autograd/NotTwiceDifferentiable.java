package io.github.grad4j.autograd;

import io.github.grad4j.tensor.Tensor;

/**
 * Wraps a gradient produced by a backward rule that is not itself differentiable, so that a second
 * differentiation through it fails with a clear message instead of returning a wrong number.
 */
final class NotTwiceDifferentiable {
    private NotTwiceDifferentiable() {
    }

    static Tensor mark(Tensor gradient, String op) {
        Tensor alias = gradient.detach();
        Node poison = new Node(op + ".backward", new Tensor[]{gradient}, g -> {
            throw new UnsupportedOperationException("the second derivative of '" + op + "' is not implemented: "
                    + "its backward rule is not differentiable (use a composite op, or a first-order method)");
        }, false);
        return alias.withGradFn(poison);
    }
}
