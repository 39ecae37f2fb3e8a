package io.github.grad4j.ops;

import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * How an op's input is laid out in memory. Every layout but CONTIGUOUS allocates a different leaf
 * tensor and hands the op a strided view of it, so kernels and backward rules see offsets,
 * permuted strides and stride-0 (broadcast) axes; the gradient is checked against the leaf.
 */
enum Layout {
    CONTIGUOUS,
    /** Last two axes swapped (rank &lt; 2: one column of a wider matrix, a stride-3 view). */
    TRANSPOSED,
    /** A random permutation of the axes (rank &lt; 3 falls back to TRANSPOSED). */
    PERMUTED,
    /** A window of a longer axis: non-zero offset, and a gap between rows. */
    NARROWED,
    /** Some axes broadcast from size 1 (stride 0): the op reads repeated elements. */
    EXPANDED;

    /** The leaf shape to allocate and the view of it that has the {@code target} shape. */
    record Source(int[] leafShape, UnaryOperator<Tensor> view, String description) {
    }

    /** Layouts that do not repeat elements (for ops whose inputs must be distinct). */
    static final Layout[] WITHOUT_REPEATS = {CONTIGUOUS, TRANSPOSED, PERMUTED, NARROWED};

    Source source(int[] target, Rng rng) {
        int rank = target.length;
        switch (this) {
            case CONTIGUOUS:
                return new Source(target.clone(), t -> t, "contiguous");
            case TRANSPOSED:
                if (rank >= 2) {
                    int[] leaf = target.clone();
                    leaf[rank - 2] = target[rank - 1];
                    leaf[rank - 1] = target[rank - 2];
                    return new Source(leaf, t -> t.transpose(-2, -1), "transpose of " + Arrays.toString(leaf));
                }
                int[] wide = Arrays.copyOf(target, rank + 1);
                wide[rank] = 3;
                return new Source(wide, t -> t.select(-1, 1), "column 1 of " + Arrays.toString(wide));
            case PERMUTED: {
                if (rank < 3) return TRANSPOSED.source(target, rng);
                int[] perm = new int[rank];
                for (int i = 0; i < rank; i++) perm[i] = i;
                rng.shuffle(perm);
                int[] leaf = new int[rank];
                int[] inverse = new int[rank];
                for (int i = 0; i < rank; i++) {
                    leaf[i] = target[perm[i]];
                    inverse[perm[i]] = i;
                }
                return new Source(leaf, t -> t.permute(inverse),
                        "permute " + Arrays.toString(inverse) + " of " + Arrays.toString(leaf));
            }
            case NARROWED: {
                if (rank == 0) return new Source(new int[]{3}, t -> t.select(0, 2), "element 2 of [3]");
                int axis = rng.nextInt(rank);
                int[] leaf = target.clone();
                leaf[axis] += 3;
                return new Source(leaf, t -> t.narrow(axis, 1, target[axis]),
                        "narrow(" + axis + ", 1, " + target[axis] + ") of " + Arrays.toString(leaf));
            }
            case EXPANDED: {
                int[] leaf = target.clone();
                boolean any = false;
                for (int d = 0; d < rank; d++) {
                    if (target[d] > 1 && (rng.nextInt(2) == 0 || !any && d == rank - 1)) {
                        leaf[d] = 1;
                        any = true;
                    }
                }
                if (!any) return NARROWED.source(target, rng);
                // sometimes also broadcast a leading axis that the leaf does not have at all
                int[] shortLeaf = leaf.length > 0 && leaf[0] == 1 && rng.nextInt(2) == 0
                        ? Arrays.copyOfRange(leaf, 1, leaf.length) : leaf;
                return new Source(shortLeaf, t -> t.expand(target),
                        "expand of " + Arrays.toString(shortLeaf));
            }
            default:
                throw new AssertionError(this);
        }
    }
}
