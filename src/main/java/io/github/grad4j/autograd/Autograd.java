package io.github.grad4j.autograd;

import io.github.grad4j.backend.Storage;

import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reverse-mode differentiation over the dynamic graph that ops record.
 *
 * <p>Gradients are computed by running each node's backward rule in reverse topological order.
 * With {@code createGraph} the rules run with recording on, so the returned gradients are
 * themselves differentiable (MAML's meta-gradient needs this); otherwise they run under no-grad.
 */
public final class Autograd {
    private Autograd() {
    }

    /**
     * Accumulates d(output)/d(leaf) into {@code leaf.grad()} for every leaf that requires a gradient.
     * {@code gradOutput} may be null only for a one-element output (it defaults to 1).
     */
    public static void backward(Tensor output, Tensor gradOutput, boolean retainGraph, boolean createGraph) {
        if (!output.requiresGrad()) {
            throw new IllegalStateException("backward: the output does not require a gradient (no input "
                    + "requires one, or it was computed under no-grad)");
        }
        List<Tensor> graph = topologicalOrder(new Tensor[]{output});
        Map<Tensor, Tensor> grads = run(graph, new Tensor[]{output}, new Tensor[]{seed(output, gradOutput)},
                retainGraph, createGraph, null);
        // Storages a gradient must not share with a .grad: the forward graph's tensors, the
        // caller's gradOutput, and (filled below) every .grad handed out by this call.
        Set<Storage> taken = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : graph) taken.add(t.storage());
        if (gradOutput != null) taken.add(gradOutput.storage());
        try (GradMode.Scope ignored = createGraph ? GradMode.enableGrad() : GradMode.noGrad()) {
            for (Map.Entry<Tensor, Tensor> e : grads.entrySet()) {
                Tensor leaf = e.getKey();
                if (!leaf.isLeaf() || !leaf.requiresGrad()) continue;
                Tensor g = createGraph ? e.getValue() : e.getValue().detach();
                // A backward rule may hand back a view of another tensor (the seed, another leaf's
                // gradient, a stride-0 broadcast of a sum's gradient): the first .grad is then a
                // fresh contiguous copy, so in-place updates of one gradient (optimizers, clipping,
                // zeroing) never leak into another and kernels may treat it as dense. A gradient
                // that already owns a whole dense storage nobody else holds is kept as it is
                // (copying 124M floats is ~0.1 s of a GPT-2 step).
                Tensor grad;
                if (leaf.grad() != null) {
                    grad = leaf.grad().add(g);
                } else if (ownsDenseStorage(g) && !taken.contains(g.storage())) {
                    grad = g;
                } else {
                    grad = Views.clone(g);
                }
                taken.add(grad.storage());
                leaf.setGrad(grad);
            }
        }
    }

    private static boolean ownsDenseStorage(Tensor g) {
        return g.offset() == 0 && g.isContiguous() && g.storage().size() == g.numel();
    }

    /**
     * The gradients of {@code outputs} (weighted by {@code gradOutputs}) with respect to {@code inputs},
     * without touching any {@code .grad}. An input the outputs do not depend on gets null when
     * {@code allowUnused}, else an error.
     */
    public static Tensor[] grad(Tensor[] outputs, Tensor[] inputs, Tensor[] gradOutputs,
                                boolean createGraph, boolean retainGraph, boolean allowUnused) {
        Tensor[] seeds = new Tensor[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            if (!outputs[i].requiresGrad()) {
                throw new IllegalStateException("grad: output " + i + " does not require a gradient");
            }
            seeds[i] = seed(outputs[i], gradOutputs == null ? null : gradOutputs[i]);
        }
        Set<Tensor> wanted = Collections.newSetFromMap(new IdentityHashMap<>());
        wanted.addAll(Arrays.asList(inputs));
        Map<Tensor, Tensor> grads = run(topologicalOrder(outputs), outputs, seeds, retainGraph, createGraph, wanted);
        Tensor[] result = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Tensor g = grads.get(inputs[i]);
            if (g == null && !allowUnused) {
                throw new IllegalStateException("grad: input " + i + " " + Shape.str(inputs[i].shape())
                        + " was not used to compute the outputs (pass allowUnused=true to get null)");
            }
            result[i] = g == null ? null : (createGraph ? g : g.detach());
        }
        return result;
    }

    /** Convenience: gradient of one scalar with respect to several inputs. */
    public static Tensor[] grad(Tensor output, Tensor[] inputs, boolean createGraph) {
        return grad(new Tensor[]{output}, inputs, null, createGraph, createGraph, false);
    }

    private static Tensor seed(Tensor output, Tensor gradOutput) {
        if (gradOutput == null) {
            if (output.numel() != 1) {
                throw new IllegalArgumentException("backward: output of shape " + Shape.str(output.shape())
                        + " is not a scalar; pass a gradient for it");
            }
            return output.constant(1.0).expand(output.shape()).contiguous();
        }
        if (!Arrays.equals(gradOutput.shape(), output.shape())) {
            throw new IllegalArgumentException("backward: gradient shape " + Shape.str(gradOutput.shape())
                    + " differs from output shape " + Shape.str(output.shape()));
        }
        return gradOutput;
    }

    /**
     * Runs the backward pass over {@code order} (the topological order of the outputs' graph) and
     * returns the gradient of every tensor reached (keyed by identity).
     * When {@code wanted} is given, nodes that cannot reach a wanted tensor are skipped.
     */
    private static Map<Tensor, Tensor> run(List<Tensor> order, Tensor[] outputs, Tensor[] seeds, boolean retainGraph,
                                           boolean createGraph, Set<Tensor> wanted) {
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        for (int i = 0; i < outputs.length; i++) accumulate(grads, outputs[i], seeds[i], createGraph);

        Set<Tensor> relevant = wanted == null ? null : reaching(order, wanted);
        List<Node> visited = new ArrayList<>();
        try (GradMode.Scope ignored = createGraph ? GradMode.enableGrad() : GradMode.noGrad()) {
            // order lists every tensor after all tensors computed from it; walk it backwards
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Node node = t.gradFn();
                Tensor g = grads.get(t);
                if (node == null || g == null) continue;
                if (relevant != null && !relevant.contains(t)) continue;
                Tensor[] inputGrads = node.runBackward(g);
                visited.add(node);
                Tensor[] inputs = node.inputs();
                for (int j = 0; j < inputs.length; j++) {
                    Tensor in = inputs[j];
                    if (in == null || !in.requiresGrad() || inputGrads[j] == null) continue;
                    Tensor ig = inputGrads[j];
                    if (!Arrays.equals(ig.shape(), in.shape())) {
                        throw new IllegalStateException("backward of '" + node.op() + "' produced a gradient of shape "
                                + Shape.str(ig.shape()) + " for input " + j + " of shape " + Shape.str(in.shape()));
                    }
                    // mark even a gradient that does not require one: its true derivative depends on
                    // the node's inputs, so treating it as a constant would be a silent wrong answer
                    if (createGraph && !node.twiceDifferentiable()) {
                        ig = NotTwiceDifferentiable.mark(ig, node.op(), inputs);
                    }
                    accumulate(grads, in, ig, createGraph);
                }
            }
        }
        if (!retainGraph) visited.forEach(Node::free);
        return grads;
    }

    private static void accumulate(Map<Tensor, Tensor> grads, Tensor t, Tensor g, boolean createGraph) {
        Tensor old = grads.get(t);
        grads.put(t, old == null ? g : old.add(g));
    }

    /** Tensors in an order where every tensor comes before the tensors computed from it. */
    static List<Tensor> topologicalOrder(Tensor[] outputs) {
        List<Tensor> order = new ArrayList<>();
        Set<Tensor> done = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Tensor> onStack = Collections.newSetFromMap(new IdentityHashMap<>());
        // iterative depth-first search: deep graphs (long RNN-like chains, many inner steps) must not
        // overflow the Java stack
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        for (Tensor out : outputs) {
            if (done.contains(out)) continue;
            stack.push(new Object[]{out, 0});
            onStack.add(out);
            while (!stack.isEmpty()) {
                Object[] frame = stack.peek();
                Tensor t = (Tensor) frame[0];
                int next = (Integer) frame[1];
                Tensor[] inputs = t.gradFn() == null ? new Tensor[0] : t.gradFn().inputs();
                if (next < inputs.length) {
                    frame[1] = next + 1;
                    Tensor in = inputs[next];
                    if (in != null && in.requiresGrad() && !done.contains(in) && !onStack.contains(in)) {
                        stack.push(new Object[]{in, 0});
                        onStack.add(in);
                    }
                } else {
                    stack.pop();
                    onStack.remove(t);
                    done.add(t);
                    order.add(t);
                }
            }
        }
        return order;
    }

    /** The tensors from which some wanted tensor can be reached by walking towards the inputs. */
    private static Set<Tensor> reaching(List<Tensor> order, Set<Tensor> wanted) {
        Set<Tensor> result = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : order) { // inputs come first, so their status is known when t is seen
            if (wanted.contains(t)) {
                result.add(t);
                continue;
            }
            if (t.gradFn() == null) continue;
            for (Tensor in : t.gradFn().inputs()) {
                if (in != null && result.contains(in)) {
                    result.add(t);
                    break;
                }
            }
        }
        return result;
    }
}
