package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Regression tests for core bugs the property suite found (one test per fixed bug). */
class CoreRegressionTest {

    /** solve treated every rank-(r-1) right-hand side as vectors, so a [2,n,n] with b [n,k] failed. */
    @Test
    void solveBroadcastsAMatrixRightHandSideOverABatch() {
        Rng rng = new Rng(3);
        Tensor a = Tensor.randn(rng, 1, DType.FLOAT64, 2, 3, 3).add(Tensor.eye(3, DType.FLOAT64).mul(4));
        Tensor b = Tensor.randn(rng, 1, DType.FLOAT64, 3, 2);
        Tensor x = LinearAlgebra.solve(a, b);
        assertArrayEquals(new int[]{2, 3, 2}, x.shape());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(b.toDoubleArray(), a.select(0, i).matmul(x.select(0, i)).toDoubleArray(), 1e-12);
        }
        // a batch of vectors whose shape is a's without the last axis stays a vector right-hand side
        Tensor v = Tensor.randn(rng, 1, DType.FLOAT64, 2, 3);
        assertArrayEquals(new int[]{2, 3}, LinearAlgebra.solve(a, v).shape());
    }

    @Test
    void inverseOfABatch() {
        Rng rng = new Rng(4);
        Tensor a = Tensor.randn(rng, 1, DType.FLOAT64, 2, 3, 3).add(Tensor.eye(3, DType.FLOAT64).mul(4));
        Tensor inv = LinearAlgebra.inverse(a);
        assertArrayEquals(new int[]{2, 3, 3}, inv.shape());
        double[] product = a.matmul(inv).toDoubleArray();
        for (int i = 0; i < product.length; i++) {
            int row = (i / 3) % 3, col = i % 3;
            assertEquals(row == col ? 1 : 0, product[i], 1e-12, "element " + i);
        }
    }
}
