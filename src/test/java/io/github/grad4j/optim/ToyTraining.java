package io.github.grad4j.optim;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Dropout;
import io.github.grad4j.nn.Linear;
import io.github.grad4j.nn.ReLU;
import io.github.grad4j.nn.Sequential;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** A seeded two-moons problem and a small training loop shared by the end-to-end tests. */
final class ToyTraining {
    private ToyTraining() {
    }

    /** Points [n, 2] and labels [n] of two interleaved half circles with Gaussian noise (as sklearn's make_moons). */
    record Data(Tensor points, Tensor labels, double[] xy, int[] y) {
        int size() {
            return y.length;
        }

        /** The rows at the given indices. */
        Data rows(int[] index) {
            double[] p = new double[index.length * 2];
            int[] l = new int[index.length];
            for (int i = 0; i < index.length; i++) {
                p[2 * i] = xy[2 * index[i]];
                p[2 * i + 1] = xy[2 * index[i] + 1];
                l[i] = y[index[i]];
            }
            return of(p, l);
        }

        static Data of(double[] xy, int[] y) {
            return new Data(Tensor.of(xy, DType.FLOAT32, y.length, 2), Tensor.ofInts(y, y.length), xy, y);
        }
    }

    static Data twoMoons(int perMoon, double noise, Rng rng) {
        double[] xy = new double[4 * perMoon];
        int[] y = new int[2 * perMoon];
        for (int i = 0; i < perMoon; i++) {
            double t = Math.PI * i / (perMoon - 1);
            xy[2 * i] = Math.cos(t) + noise * rng.nextGaussian();
            xy[2 * i + 1] = Math.sin(t) + noise * rng.nextGaussian();
            int j = perMoon + i;
            xy[2 * j] = 1 - Math.cos(t) + noise * rng.nextGaussian();
            xy[2 * j + 1] = 0.5 - Math.sin(t) + noise * rng.nextGaussian();
            y[j] = 1;
        }
        return Data.of(xy, y);
    }

    static Sequential mlp(int hidden, Rng rng) {
        return new Sequential(new Linear(2, hidden, rng), new ReLU(), new Linear(hidden, hidden, rng), new ReLU(),
                new Linear(hidden, 2, rng));
    }

    /** An MLP with dropout, whose masks come from {@code dropoutRng}. */
    static Sequential mlpWithDropout(int hidden, Rng rng, Rng dropoutRng) {
        return new Sequential(new Linear(2, hidden, rng), new ReLU(), new Dropout(0.1, dropoutRng), new Linear(hidden, 2, rng));
    }

    static double loss(Sequential model, Data data) {
        return Functional.crossEntropy(model.forward(data.points()), data.labels()).item();
    }

    static double accuracy(Sequential model, Data data) {
        int[] predicted = model.forward(data.points()).argmax(1).toIntArray();
        int right = 0;
        for (int i = 0; i < predicted.length; i++) if (predicted[i] == data.y()[i]) right++;
        return (double) right / predicted.length;
    }

    /** One optimizer step on a minibatch drawn with {@code dataRng}; returns the minibatch loss. */
    static double step(Sequential model, Optimizer opt, Data data, int batch, Rng dataRng) {
        int[] index = new int[batch];
        for (int i = 0; i < batch; i++) index[i] = dataRng.nextInt(data.size());
        Data b = data.rows(index);
        opt.zeroGrad();
        Tensor loss = Functional.crossEntropy(model.forward(b.points()), b.labels());
        loss.backward();
        opt.step();
        return loss.item();
    }

    /** Full-batch training; returns the loss of each step. */
    static double[] trainFullBatch(Sequential model, Optimizer opt, Data data, int steps) {
        double[] losses = new double[steps];
        for (int s = 0; s < steps; s++) {
            opt.zeroGrad();
            Tensor loss = Functional.crossEntropy(model.forward(data.points()), data.labels());
            loss.backward();
            opt.step();
            losses[s] = loss.item();
        }
        return losses;
    }
}
