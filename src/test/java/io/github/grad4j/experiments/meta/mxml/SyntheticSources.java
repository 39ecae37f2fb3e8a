package io.github.grad4j.experiments.meta.mxml;

import io.github.grad4j.experiments.meta.data.ImageClass;
import io.github.grad4j.experiments.meta.data.ImageDataset;
import io.github.grad4j.experiments.meta.data.Pixels;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Two synthetic task distributions that call for different learners: in "left" images the class
 * is a fixed random binary pattern in the left half (a twentieth of its pixels flipped per image) and
 * the right half is fresh noise of the same density; "right" is the mirror image. A learner
 * meta-trained on one learns to ignore the other half, which carries the class in the other
 * distribution.
 */
final class SyntheticSources {
    private SyntheticSources() {
    }

    static ImageDataset halves(String name, boolean patternOnLeft, int classes, int imagesPerClass, int size, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int half = size / 2;
        List<ImageClass> list = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            boolean[] pattern = new boolean[size * half];
            for (int p = 0; p < pattern.length; p++) pattern[p] = random.nextDouble() < 1.0 / 3;
            List<byte[]> images = new ArrayList<>();
            for (int i = 0; i < imagesPerClass; i++) {
                float[] pixels = new float[size * size];
                for (int row = 0; row < size; row++) {
                    for (int col = 0; col < size; col++) {
                        boolean inPatternHalf = patternOnLeft ? col < half : col >= half;
                        boolean on = inPatternHalf
                                ? pattern[row * half + (col % half)] ^ (random.nextDouble() < 0.05)
                                : random.nextDouble() < 1.0 / 3;
                        pixels[row * size + col] = on ? 1f : 0f;
                    }
                }
                images.add(Pixels.encode(pixels));
            }
            list.add(new ImageClass(name, "class" + c, 0, images));
        }
        return new ImageDataset(name, size, size, list);
    }
}
