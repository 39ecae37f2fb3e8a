package io.github.grad4j.ops;

import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

import java.util.Arrays;
import java.util.List;

/** Shape generators: dimensions 1 and small primes, broadcasting pairs, random axis sets. */
final class Shapes {
    /** Size 1 (the broadcasting edge) and primes (no accidental divisibility or vector-width fit). */
    static final Integer[] DIMS = {1, 2, 3, 5, 7};

    private Shapes() {
    }

    /** Shapes of rank minRank..maxRank over {@link #DIMS} with at most maxNumel elements. */
    static Arbitrary<int[]> shapes(int minRank, int maxRank, int maxNumel) {
        return Arbitraries.of(DIMS).list().ofMinSize(minRank).ofMaxSize(maxRank)
                .map(Shapes::toArray)
                .filter(s -> Shape.numel(s) <= maxNumel);
    }

    static int[] toArray(List<Integer> dims) {
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Two shapes that broadcast against each other, derived from a common shape by dropping
     * leading axes and setting random axes to 1 (independently for each operand).
     */
    static Arbitrary<int[][]> broadcastPairs(int maxRank, int maxNumel) {
        return shapes(0, maxRank, maxNumel).flatMap(full -> Arbitraries.longs().map(seed -> {
            Rng rng = new Rng(seed);
            return new int[][]{reduced(full, rng), reduced(full, rng)};
        }));
    }

    /** {@code full} with some leading axes dropped and some axes set to 1. */
    static int[] reduced(int[] full, Rng rng) {
        int drop = rng.nextInt(full.length + 1) == 0 ? rng.nextInt(full.length + 1) : 0;
        int[] s = Arrays.copyOfRange(full, drop, full.length);
        for (int d = 0; d < s.length; d++) if (rng.nextInt(3) == 0) s[d] = 1;
        return s;
    }

    /** A random non-empty subset of the axes of a rank-r tensor, each axis possibly written negative. */
    static int[] axisSubset(int rank, Rng rng) {
        int[] picked = new int[rank];
        int n = 0;
        for (int d = 0; d < rank; d++) {
            if (rng.nextInt(2) == 0) picked[n++] = rng.nextInt(2) == 0 ? d : d - rank;
        }
        if (n == 0 && rank > 0) picked[n++] = rng.nextInt(rank);
        int[] axes = Arrays.copyOf(picked, n);
        // order of the axes must not matter
        for (int i = axes.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = axes[i];
            axes[i] = axes[j];
            axes[j] = t;
        }
        return axes;
    }

    /** Element count after reducing {@code axes} (all axes when empty). */
    static int reducedCount(int[] shape, int[] axes) {
        if (axes.length == 0) return Shape.numel(shape);
        int c = 1;
        for (int a : axes) c *= shape[a < 0 ? a + shape.length : a];
        return c;
    }

    /** A random shape with the same number of elements (the prime factors regrouped). */
    static int[] regrouped(int[] shape, Rng rng) {
        int n = Shape.numel(shape);
        int[] factors = new int[32];
        int f = 0;
        for (int p = 2, m = n; m > 1; ) {
            if (m % p == 0) {
                factors[f++] = p;
                m /= p;
            } else {
                p++;
            }
        }
        int rank = 1 + rng.nextInt(4);
        int[] out = new int[rank];
        Arrays.fill(out, 1);
        for (int i = 0; i < f; i++) out[rng.nextInt(rank)] *= factors[i];
        return out;
    }
}
