package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.Arrays;

/** matmul (rank-1 operands, batch broadcasting), linear, solve and inverse. */
class LinearAlgebraGradProperties {

    private static int dim(Rng r) {
        return Shapes.DIMS[r.nextInt(Shapes.DIMS.length)];
    }

    /** Leading batch axes for one operand, broadcast-compatible with {@code batch}. */
    private static int[] batchFor(int[] batch, Rng r) {
        return Shapes.reduced(batch, r);
    }

    /**
     * Operand shapes for matmul: ranks 1 to 4; rank-1 operands act as row/column vectors;
     * batch axes broadcast (size 1 or missing on either side).
     */
    static int[][] matmulShapes(Rng r) {
        int m = dim(r), k = dim(r), n = dim(r);
        int[] batch = r.nextInt(2) == 0 ? new int[0] : (r.nextInt(2) == 0 ? new int[]{dim(r)} : new int[]{dim(r), 2});
        int[] a = r.nextInt(5) == 0 ? new int[]{k} : concat(batchFor(batch, r), new int[]{m, k});
        int[] b = r.nextInt(5) == 0 ? new int[]{k} : concat(batchFor(batch, r), new int[]{k, n});
        return new int[][]{a, b};
    }

    private static int[] concat(int[] a, int[] b) {
        return io.github.grad4j.tensor.Shape.concat(a, b);
    }

    @Property(tries = 40)
    void matmul(@ForAll Layout la, @ForAll Layout lb, @ForAll long seed) {
        Rng r = new Rng(seed);
        int[][] s = matmulShapes(r);
        OpCase.of("matmul " + Arrays.toString(s[0]) + " @ " + Arrays.toString(s[1]), seed)
                .input(s[0], la, Values.normal()).input(s[1], lb, Values.normal())
                .verifyTwice(x -> x[0].matmul(x[1]));
    }

    @Property(tries = 40)
    void linear(@ForAll Layout lx, @ForAll Layout lw, @ForAll boolean withBias,
                @ForAll @IntRange(min = 1, max = 3) int xRank, @ForAll long seed) {
        Rng r = new Rng(seed);
        int in = dim(r), out = dim(r);
        int[] xs = new int[xRank];
        for (int d = 0; d < xRank - 1; d++) xs[d] = dim(r);
        xs[xRank - 1] = in;
        OpCase c = OpCase.of("linear x" + Arrays.toString(xs) + " out " + out + " bias " + withBias, seed)
                .input(xs, lx, Values.normal()).input(new int[]{out, in}, lw, Values.normal());
        if (withBias) c.input(new int[]{out}, Values.normal());
        c.verifyTwice(x -> Functional.linear(x[0], x[1], withBias ? x[2] : null));
    }

    /** a well-conditioned matrix: random plus n times the identity. */
    private static Tensor wellConditioned(Tensor a) {
        int n = a.size(-1);
        return a.add(Tensor.eye(n, a.dtype()).mul(n + 1.0));
    }

    @Property(tries = 40)
    void solve(@ForAll Layout la, @ForAll Layout lb, @ForAll @IntRange(min = 0, max = 3) int variant, @ForAll long seed) {
        Rng r = new Rng(seed);
        int n = new int[]{1, 2, 3, 5}[r.nextInt(4)];
        int k = dim(r);
        int[] a, b;
        switch (variant) {
            case 0: a = new int[]{n, n}; b = new int[]{n, k}; break;
            case 1: a = new int[]{n, n}; b = new int[]{n}; break;            // vector right-hand side
            case 2: a = new int[]{2, n, n}; b = new int[]{n, k}; break;      // b broadcast over a's batch
            default: a = new int[]{n, n}; b = new int[]{3, n, k}; break;     // a broadcast over b's batch
        }
        OpCase.of("solve a" + Arrays.toString(a) + " b" + Arrays.toString(b), seed)
                .input(a, la, Values.normal()).input(b, lb, Values.normal())
                .verifyTwice(x -> LinearAlgebra.solve(wellConditioned(x[0]), x[1]));
    }

    @Property(tries = 40)
    void inverse(@ForAll Layout l, @ForAll boolean batched, @ForAll long seed) {
        int n = new int[]{1, 2, 3, 5}[new Rng(seed).nextInt(4)];
        int[] a = batched ? new int[]{2, n, n} : new int[]{n, n};
        OpCase.of("inverse " + Arrays.toString(a), seed).input(a, l, Values.normal())
                .verify(x -> LinearAlgebra.inverse(wellConditioned(x[0])));
    }

    /** The solution really solves the system (the gradient checks alone would accept a wrong but smooth map). */
    @Property(tries = 30)
    void solveSatisfiesTheSystem(@ForAll long seed) {
        Rng r = new Rng(seed);
        int n = 1 + r.nextInt(5);
        Tensor a = wellConditioned(Tensor.randn(r, 1, DType.FLOAT64, n, n));
        Tensor b = Tensor.randn(r, 1, DType.FLOAT64, n, 2);
        double[] residual = a.matmul(LinearAlgebra.solve(a, b)).sub(b).toDoubleArray();
        for (double e : residual) org.junit.jupiter.api.Assertions.assertEquals(0, e, 1e-10);
        double[] id = a.matmul(LinearAlgebra.inverse(a)).toDoubleArray();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                org.junit.jupiter.api.Assertions.assertEquals(i == j ? 1 : 0, id[i * n + j], 1e-10);
            }
        }
    }
}
