package io.github.grad4j.experiments.meta.maml;

import io.github.grad4j.backend.DType;
import io.github.grad4j.experiments.meta.data.Episode;
import io.github.grad4j.experiments.meta.data.ShotMode;
import io.github.grad4j.tensor.Tensor;

/**
 * One few-shot task as tensors: support and query images [count, channels, H, W] with INT32 labels
 * 0..ways-1.
 *
 * @param supportX      support images
 * @param supportY      support labels [S]
 * @param queryX        query images
 * @param queryY        query labels [Q]
 * @param ways          N
 * @param shotsPerClass support images of each class
 * @param shotMode      how the shots were drawn (for reports), or null
 */
public record Task(Tensor supportX, Tensor supportY, Tensor queryX, Tensor queryY, int ways, int[] shotsPerClass,
                   ShotMode shotMode) {

    public Task {
        if (supportX.dim() != 4 || queryX.dim() != 4) {
            throw new IllegalArgumentException("Task: images must be [count, channels, H, W], got support "
                    + java.util.Arrays.toString(supportX.shape()) + " and query " + java.util.Arrays.toString(queryX.shape()));
        }
        if (supportY.numel() != supportX.size(0) || queryY.numel() != queryX.size(0)) {
            throw new IllegalArgumentException("Task: " + supportX.size(0) + " support and " + queryX.size(0)
                    + " query images but " + supportY.numel() + " and " + queryY.numel() + " labels");
        }
        if (shotsPerClass.length != ways) {
            throw new IllegalArgumentException("Task: " + shotsPerClass.length + " shot counts for " + ways + " ways");
        }
        shotsPerClass = shotsPerClass.clone();
    }

    /** The episode's grey-scale images as one-channel tensors of {@code dtype} on the default backend. */
    public static Task from(Episode e, DType dtype) {
        int h = e.height(), w = e.width();
        Tensor sx = Tensor.of(toDoubles(e.flatSupport()), dtype, e.supportSize(), 1, h, w);
        Tensor qx = Tensor.of(toDoubles(e.flatQuery()), dtype, e.querySize(), 1, h, w);
        return new Task(sx, Tensor.ofInts(e.supportLabels(), e.supportSize()), qx,
                Tensor.ofInts(e.queryLabels(), e.querySize()), e.ways(), e.shotsPerClass(), e.drawnShotMode());
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    public int supportSize() {
        return supportX.size(0);
    }

    public int querySize() {
        return queryX.size(0);
    }

    /** A copy of the shot counts. */
    @Override
    public int[] shotsPerClass() {
        return shotsPerClass.clone();
    }
}
