package io.github.grad4j.autograd;

import io.github.grad4j.backend.DType;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A small MLP trained with plain SGD: the same seed gives bit-identical losses, another seed differs. */
class SeededDeterminismTest {

    /** Losses of 20 SGD steps of a 4-8-3 tanh MLP with dropout on random data, all drawn from {@code seed}. */
    static double[] trainingLosses(long seed, DType dtype) {
        Rng rng = new Rng(seed);
        Tensor x = Tensor.randn(rng, 1, dtype, 16, 4);
        int[] labels = new int[16];
        for (int i = 0; i < labels.length; i++) labels[i] = rng.nextInt(3);
        Tensor y = Tensor.ofInts(labels, 16);
        Tensor w1 = Tensor.randn(rng, 0.5, dtype, 8, 4).requiresGrad(true);
        Tensor b1 = Tensor.zeros(dtype, 8).requiresGrad(true);
        Tensor w2 = Tensor.randn(rng, 0.5, dtype, 3, 8).requiresGrad(true);
        Tensor b2 = Tensor.zeros(dtype, 3).requiresGrad(true);
        Tensor[] params = {w1, b1, w2, b2};
        Rng dropoutRng = rng.fork();
        double[] losses = new double[20];
        for (int step = 0; step < losses.length; step++) {
            Tensor h = Functional.dropout(Functional.linear(x, w1, b1).tanh(), 0.1, true, dropoutRng);
            Tensor loss = Functional.crossEntropy(Functional.linear(h, w2, b2), y);
            losses[step] = loss.item();
            for (Tensor p : params) p.setGrad(null);
            loss.backward();
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                for (Tensor p : params) p.assign(p.sub(p.grad().mul(0.5)));
            }
        }
        return losses;
    }

    @Test
    void sameSeedGivesBitIdenticalLosses() {
        for (DType dtype : new DType[]{DType.FLOAT32, DType.FLOAT64}) {
            double[] first = trainingLosses(42, dtype);
            double[] second = trainingLosses(42, dtype);
            assertArrayEquals(first, second, 0.0, dtype + " losses must be bit-identical");
            assertTrue(first[first.length - 1] < first[0], "the loop must actually train: " + first[0] + " -> "
                    + first[first.length - 1]);
        }
    }

    @Test
    void differentSeedsGiveDifferentLosses() {
        assertFalse(java.util.Arrays.equals(trainingLosses(42, DType.FLOAT64), trainingLosses(43, DType.FLOAT64)));
    }
}
