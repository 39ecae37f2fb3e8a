package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The singularity check of solve must judge conditioning, not the size of the determinant. */
class SolveConditioningTest {
    @Test
    void wellConditionedMatrixWithTinyDeterminantIsSolved() {
        // 0.01 I (100 x 100) has determinant 1e-200 but condition number 1: x = 100 b exactly.
        int n = 100;
        Tensor a = Tensor.eye(n, DType.FLOAT64).mul(0.01);
        Tensor b = Tensor.ones(DType.FLOAT64, n, 1);
        double[] x = LinearAlgebra.solve(a, b).toDoubleArray();
        for (double v : x) assertEquals(100.0, v, 1e-9);
    }

    @Test
    void rankDeficientMatrixIsRejected() {
        Tensor a = Tensor.of(new double[]{1, 2, 2, 4}, 2, 2);
        Tensor b = Tensor.of(new double[]{1, 1}, 2, 1);
        ArithmeticException e = assertThrows(ArithmeticException.class, () -> LinearAlgebra.solve(a, b));
        assertTrue(e.getMessage().contains("singular"), e.getMessage());
    }
}
