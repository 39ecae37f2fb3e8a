package io.github.grad4j.experiments.meta;

import io.github.grad4j.experiments.meta.data.ImageClass;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.Pixels;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A tiny synthetic few-shot dataset generated in the test: each class is a random binary
 * pattern (a third of the pixels on), and each image of the class is the pattern with every
 * pixel flipped with probability {@code flip}, so classes are learnable but images are noisy.
 */
final class SyntheticFewShotData {
    private SyntheticFewShotData() {
    }

    static ImageDataset dataset(String name, int classes, int imagesPerClass, int size, double flip, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<ImageClass> list = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            boolean[] pattern = new boolean[size * size];
            for (int p = 0; p < pattern.length; p++) pattern[p] = random.nextDouble() < 1.0 / 3;
            List<byte[]> images = new ArrayList<>();
            for (int i = 0; i < imagesPerClass; i++) {
                float[] pixels = new float[size * size];
                for (int p = 0; p < pixels.length; p++) {
                    boolean on = pattern[p] ^ (random.nextDouble() < flip);
                    pixels[p] = on ? 1f : 0f;
                }
                images.add(Pixels.encode(pixels));
            }
            list.add(new ImageClass("synthetic", "class" + c, 0, images));
        }
        return new ImageDataset(name, size, size, list);
    }
}
