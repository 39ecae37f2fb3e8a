package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class QuickSanityTest {
    @Test
    void gradcheckOfSeveralOps() {
        Rng rng = new Rng(1);
        GradCheck gc = GradCheck.float64();
        Tensor a = Tensor.randn(rng, 1, DType.FLOAT64, 3, 4);
        Tensor b = Tensor.randn(rng, 1, DType.FLOAT64, 4, 5);
        var r = gc.gradcheck(x -> x[0].matmul(x[1]).tanh().softmax(1).log().sum(true, 0), new Tensor[]{a, b}, rng);
        assertTrue(r.passed(), r.toString());
        var r2 = gc.gradgradcheck(x -> x[0].matmul(x[1]).tanh().softmax(1), new Tensor[]{a, b}, rng);
        assertTrue(r2.passed(), r2.toString());
        Tensor img = Tensor.randn(rng, 1, DType.FLOAT64, 2, 2, 5, 5);
        Tensor w = Tensor.randn(rng, 1, DType.FLOAT64, 3, 2, 3, 3);
        Tensor bias = Tensor.randn(rng, 1, DType.FLOAT64, 3);
        var r3 = gc.gradgradcheck(x -> Convolution.maxPool2d(Convolution.conv2d(x[0], x[1], x[2], 1, 1), 2, 2, 0),
                new Tensor[]{img, w, bias}, rng);
        assertTrue(r3.passed(), r3.toString());
        Tensor m = Tensor.randn(rng, 1, DType.FLOAT64, 4, 4).add(Tensor.eye(4, DType.FLOAT64).mul(4));
        Tensor rhs = Tensor.randn(rng, 1, DType.FLOAT64, 4, 2);
        var r4 = gc.gradgradcheck(x -> LinearAlgebra.solve(x[0], x[1]), new Tensor[]{m, rhs}, rng);
        assertTrue(r4.passed(), r4.toString());
    }
}
