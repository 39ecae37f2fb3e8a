package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Size-0 axes where they are legal (as in PyTorch), with their gradients, and scalar edge cases. */
class EmptyAndEdgeCaseTest {

    private static Tensor leaf(double value, int... shape) {
        return Tensor.full(value, DType.FLOAT64, shape).requiresGrad(true);
    }

    @Test
    void addWithAnEmptyAxisBroadcasts() {
        Tensor a = leaf(1, 0, 3), b = leaf(2, 3);
        Tensor y = a.add(b);
        assertArrayEquals(new int[]{0, 3}, y.shape());
        y.sum().backward();
        assertArrayEquals(new int[]{0, 3}, a.grad().shape());
        // b was broadcast over zero rows: its gradient is a sum of nothing
        assertArrayEquals(new double[]{0, 0, 0}, b.grad().toDoubleArray(), 0);
    }

    @Test
    void sumOverAnEmptyAxisIsZero() {
        Tensor x = leaf(1, 2, 0);
        assertArrayEquals(new double[]{0, 0}, x.sum(1).toDoubleArray(), 0);
        assertArrayEquals(new int[]{0}, x.sum(0).shape());
        assertEquals(0, x.sum().item(), 0);
        x.sum().backward();
        assertArrayEquals(new int[]{2, 0}, x.grad().shape());
    }

    @Test
    void matmulWithAnEmptyInnerDimensionIsZeros() {
        Tensor a = leaf(1, 2, 0), b = leaf(1, 0, 3);
        Tensor y = a.matmul(b);
        assertArrayEquals(new int[]{2, 3}, y.shape());
        assertArrayEquals(new double[6], y.toDoubleArray(), 0);
        y.sum().backward();
        assertArrayEquals(new int[]{2, 0}, a.grad().shape());
        assertArrayEquals(new int[]{0, 3}, b.grad().shape());
    }

    @Test
    void matmulWithAnEmptyOuterDimension() {
        Tensor y = leaf(1, 0, 3).matmul(leaf(1, 3, 4));
        assertArrayEquals(new int[]{0, 4}, y.shape());
        Tensor batched = leaf(1, 0, 2, 3).matmul(leaf(1, 3, 4));
        assertArrayEquals(new int[]{0, 2, 4}, batched.shape());
    }

    @Test
    void concatWithAnEmptyPart() {
        Tensor a = leaf(1, 2, 0), b = Tensor.of(new double[]{1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor y = Views.concat(1, a, b);
        assertArrayEquals(new int[]{2, 2}, y.shape());
        assertArrayEquals(b.toDoubleArray(), y.toDoubleArray(), 0);
        y.mul(y).sum().backward();
        assertArrayEquals(new int[]{2, 0}, a.grad().shape());
        assertArrayEquals(new double[]{2, 4, 6, 8}, b.grad().toDoubleArray(), 0);
        assertArrayEquals(new int[]{0, 2}, Views.concat(0, leaf(1, 0, 2), leaf(1, 0, 2)).shape());
    }

    @Test
    void scalarTensorsFlowThroughOpsAndGradients() {
        Tensor x = Tensor.scalar(0.7, DType.FLOAT64).requiresGrad(true);
        Tensor y = x.mul(x).exp();
        y.backward();
        assertEquals(2 * 0.7 * Math.exp(0.49), x.grad().item(), 1e-12);
        assertArrayEquals(new int[0], x.grad().shape());
    }

    /** x^0 is the constant 1: its gradient is 0 everywhere, also at x = 0 (0 * 0^-1 must not give NaN). */
    @Test
    void powZeroHasZeroGradientAtZero() {
        Tensor x = Tensor.of(new double[]{0, 2}, 2).requiresGrad(true);
        x.pow(0).sum().backward();
        assertArrayEquals(new double[]{0, 0}, x.grad().toDoubleArray(), 0);
    }
}
