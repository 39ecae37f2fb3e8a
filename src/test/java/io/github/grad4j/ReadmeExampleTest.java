package io.github.grad4j;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The library example of README.md, line for line, so the README cannot drift from the API. */
class ReadmeExampleTest {
    @Test
    void readmeLibraryExampleRuns() {
        Rng rng = new Rng(42);
        Tensor w = Tensor.randn(rng, 0.1, DType.FLOAT32, 3, 2).requiresGrad(true);
        Tensor x = Tensor.randn(rng, 1.0, DType.FLOAT32, 8, 3);
        Tensor loss = x.matmul(w).tanh().square().mean();
        loss.backward();
        Tensor[] g = Autograd.grad(x.matmul(w).square().sum(), new Tensor[]{w}, true);

        Sequential mlp = new Sequential(new Linear(3, 16, rng), new ReLU(), new Linear(16, 4, rng));
        AdamW opt = new AdamW(mlp.namedParameters(), 1e-3);
        Tensor labels = Tensor.ofInts(new int[]{0, 1, 2, 3, 0, 1, 2, 3}, 8);
        Functional.crossEntropy(mlp.forward(x), labels).backward();
        opt.step();
        opt.zeroGrad();

        assertArrayEquals(new int[]{3, 2}, w.grad().shape());
        // d/dw sum((x w)^2) = 2 x^T x w, and with createGraph it is itself differentiable
        double[] expected = x.mT().matmul(x.matmul(w)).mul(2).toDoubleArray();
        double[] gw = g[0].toDoubleArray();
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], gw[i], 1e-4);
        assertTrue(g[0].requiresGrad());
        assertNotNull(mlp.parameters().get(0));
    }
}
