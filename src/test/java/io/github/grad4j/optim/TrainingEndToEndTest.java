package io.github.grad4j.optim;

import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.tensor.Rng;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * An MLP learns two moons with each optimizer. The bounds are out of reach of a linear classifier
 * (checked below), so only a model that learned the nonlinear boundary passes.
 */
class TrainingEndToEndTest {
    private static final int STEPS = 300;
    private static final double LOSS_BOUND = 0.08;
    private static final double ACCURACY_BOUND = 0.97;

    private static ToyTraining.Data data() {
        return ToyTraining.twoMoons(100, 0.1, new Rng(2024));
    }

    private static void learns(String name, Function<Sequential, Optimizer> optimizer) {
        ToyTraining.Data data = data();
        Sequential model = ToyTraining.mlp(16, new Rng(1));
        double initial = ToyTraining.loss(model, data);
        double[] losses = ToyTraining.trainFullBatch(model, optimizer.apply(model), data, STEPS);
        double finalLoss = ToyTraining.loss(model, data);
        double accuracy = ToyTraining.accuracy(model, data);
        assertTrue(finalLoss < LOSS_BOUND && accuracy >= ACCURACY_BOUND, name + ": loss " + initial + " -> " + finalLoss
                + ", accuracy " + accuracy + ", loss at step 100: " + losses[100]);
    }

    @Test
    void sgd() {
        learns("SGD", m -> new SGD(m.namedParameters(), 0.5));
    }

    @Test
    void sgdWithMomentum() {
        learns("SGD+momentum", m -> new SGD(m.namedParameters(), 0.1, 0.9, 0, 0, false));
    }

    @Test
    void sgdWithNesterov() {
        learns("SGD+Nesterov", m -> new SGD(m.namedParameters(), 0.1, 0.9, 0, 1e-4, true));
    }

    @Test
    void adam() {
        learns("Adam", m -> new Adam(m.namedParameters(), 0.02));
    }

    @Test
    void adamW() {
        learns("AdamW", m -> new AdamW(m.namedParameters(), 0.02, 0.9, 0.999, 1e-8, 0.01)
                .setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY));
    }

    @Test
    void aLinearModelCannotReachTheBound() {
        ToyTraining.Data data = data();
        Sequential linear = new Sequential(new Linear(2, 2, new Rng(1)));
        ToyTraining.trainFullBatch(linear, new Adam(linear.namedParameters(), 0.05), data, STEPS);
        assertTrue(ToyTraining.loss(linear, data) > 2 * LOSS_BOUND, "loss " + ToyTraining.loss(linear, data));
    }

    @Test
    void sameSeedGivesBitIdenticalLossesAndAnotherSeedDoesNot() {
        double[] a = seededRun(7), b = seededRun(7), c = seededRun(8);
        assertArrayEquals(a, b, 0.0);
        assertFalse(Arrays.equals(a, c));
    }

    /** Minibatch training with dropout: every source of randomness comes from the seed. */
    private static double[] seededRun(long seed) {
        Rng rng = new Rng(seed);
        ToyTraining.Data data = ToyTraining.twoMoons(50, 0.1, rng.fork());
        Rng dataRng = rng.fork();
        Sequential model = ToyTraining.mlpWithDropout(16, rng, rng.fork());
        AdamW opt = new AdamW(model.namedParameters(), 0.01);
        double[] losses = new double[20];
        for (int s = 0; s < losses.length; s++) losses[s] = ToyTraining.step(model, opt, data, 16, dataRng);
        return losses;
    }
}
