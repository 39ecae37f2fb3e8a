package io.github.grad4j.experiments.meta;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.experiments.meta.data.EpisodeSampler;
import io.github.grad4j.experiments.meta.data.EpisodeSpec;
import io.github.grad4j.experiments.meta.data.ImageClass;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.Pixels;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.tensor.Backends;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Wall time of one meta-training step (forward + backward + Adam) on the default backend, for
 * ProtoNet and TPN with the Conv-4 embedding, on random images (the cost does not depend on the
 * pixel values). Warm-up steps first, then the median.
 */
public final class FewShotBenchmark {
    private FewShotBenchmark() {
    }

    /** One timing: median, min and max milliseconds per step. */
    public record Timing(String method, int ways, int shots, int queries, int filters, int imageSize, int steps,
                         double medianMs, double minMs, double maxMs, String backend) {
        @Override
        public String toString() {
            return String.format("%s %d-way %d-shot %d-query, Conv-4 %d filters, %dx%d, %s backend: "
                            + "median %.0f ms per episode (min %.0f, max %.0f, %d timed steps)",
                    method, ways, shots, queries, filters, imageSize, imageSize, backend, medianMs, minMs, maxMs, steps);
        }
    }

    /** Times {@code steps} steps after {@code warmup} untimed ones. */
    public static Timing time(String method, int ways, int shots, int queries, int filters, int imageSize, int warmup,
                              int steps) {
        FewShotConfig config = new FewShotConfig(method, ways, shots, queries, false, filters, imageSize, 1, 1e-3,
                10000, 1, 0, Tpn.DEFAULT_K, Tpn.DEFAULT_ALPHA, false, 1);
        FewShotModel model = config.buildModel(DType.FLOAT32);
        Adam adam = new Adam(model.namedParameters(), 1e-3);
        EpisodeSampler sampler = new EpisodeSampler(randomDataset(ways, shots + queries, imageSize),
                EpisodeSpec.fixed(ways, shots, queries), 7);
        double[] ms = new double[steps];
        for (int i = 0; i < warmup + steps; i++) {
            Episode episode = sampler.next();
            long start = System.nanoTime();
            adam.zeroGrad();
            model.forward(EpisodeBatch.of(episode, DType.FLOAT32)).loss().backward();
            adam.step();
            if (i >= warmup) ms[i - warmup] = (System.nanoTime() - start) / 1e6;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        return new Timing(method, ways, shots, queries, filters, imageSize, steps, sorted[steps / 2], sorted[0],
                sorted[steps - 1], Backends.defaultBackend().name());
    }

    /** {@code classes} classes of {@code images} uniformly random images each. */
    static ImageDataset randomDataset(int classes, int images, int size) {
        SplittableRandom random = new SplittableRandom(3);
        List<ImageClass> list = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            List<byte[]> encoded = new ArrayList<>();
            for (int i = 0; i < images; i++) {
                float[] pixels = new float[size * size];
                for (int p = 0; p < pixels.length; p++) pixels[p] = (float) random.nextDouble();
                encoded.add(Pixels.encode(pixels));
            }
            list.add(new ImageClass("random", "class" + c, 0, encoded));
        }
        return new ImageDataset("random", size, size, list);
    }
}
