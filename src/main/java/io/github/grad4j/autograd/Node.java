package io.github.grad4j.autograd;

import io.github.grad4j.tensor.Tensor;

/**
 * One recorded operation of the dynamic graph: the op's name, the tensors it read, and its
 * backward rule. The rule maps the gradient of the output to gradients of the inputs (null where
 * an input needs none) and is written in differentiable tensor ops, so running it with the graph
 * enabled yields second derivatives.
 */
public final class Node {

    /** The backward rule of one op. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    private final String op;
    private final Tensor[] inputs;
    private Backward backward;
    private final boolean twiceDifferentiable;

    public Node(String op, Tensor[] inputs, Backward backward, boolean twiceDifferentiable) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
        this.twiceDifferentiable = twiceDifferentiable;
    }

    public String op() {
        return op;
    }

    public Tensor[] inputs() {
        return inputs;
    }

    /** False for ops whose backward is not itself differentiable (a second derivative must fail). */
    public boolean twiceDifferentiable() {
        return twiceDifferentiable;
    }

    boolean isFreed() {
        return backward == null;
    }

    /** Drops the backward closure and what it captured, so activations can be collected. */
    void free() {
        backward = null;
    }

    Tensor[] runBackward(Tensor gradOutput) {
        if (backward == null) {
            throw new IllegalStateException("backward through '" + op + "' a second time: its graph was freed "
                    + "after the first backward; pass retainGraph=true to keep it");
        }
        return backward.apply(gradOutput);
    }

    @Override
    public String toString() {
        return "Node[" + op + "]";
    }
}
