package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.experiments.meta.Conv4;
import io.github.grad4j.experiments.meta.EpisodeBatch;
import io.github.grad4j.experiments.meta.PrototypicalNetwork;
import io.github.grad4j.optim.Adam;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * One meta-learning episode on the OpenCL backend: a prototypical network over a small Conv-4
 * (8 filters, 16x16 synthetic images, 3-way 2-shot, 2 queries per class; batch norm in training
 * mode) runs forward, backward and an Adam step, then the same episode again, and both losses
 * equal the reference backend's (same seed, FLOAT32 storage on both). The second loss checks the
 * backward pass and the Adam update of every conv and batch-norm parameter.
 */
class OpenClProtoNetEpisodeTest {
    private static final int WAYS = 3, SHOTS = 2, QUERIES = 2, SIZE = 16, FILTERS = 8, EPISODES = 2;
    /**
     * Relative agreement of the losses before and after the Adam step. Before: the forward pass
     * only; float32 on the OpenCL side (im2col matmuls, batch-norm statistics summed in other
     * orders than the float64 reference) differs by a few float32 ulps; measured 2e-7, bound 1e-5.
     * After: Adam's first update is lr g / (|g| + eps), close to lr sign(g), so gradient elements
     * that are zero up to rounding (e.g. conv biases ahead of batch norm, which cancels them) move
     * by up to lr = 1e-3 in a direction set by rounding noise on either backend; measured 1.4e-5
     * (1.2e-5 and 4e-5 after a second and third step), bound 2e-4. A wrong kernel (a wrong
     * gradient or a dropped update) moves this loss by percent: the step lowers it by ~60%.
     */
    private static final double[] LOSS_TOL = {1e-5, 2e-4};

    private static double[] run(Backend backend) {
        Backend previous = Backends.defaultBackend();
        Backends.setDefault(backend);
        try {
            Rng rng = new Rng(5);
            PrototypicalNetwork model = new PrototypicalNetwork(new Conv4(1, FILTERS, SIZE, rng, DType.FLOAT32));
            model.train(true);
            Optimizer opt = new Adam(model.namedParameters(), 1e-3);
            // synthetic classes: a per-class mean image plus noise
            Rng data = new Rng(11);
            float[][] means = new float[WAYS][SIZE * SIZE];
            for (float[] m : means) for (int i = 0; i < m.length; i++) m[i] = (float) data.nextGaussian();
            int[] supportLabels = new int[WAYS * SHOTS], queryLabels = new int[WAYS * QUERIES];
            float[][] support = new float[supportLabels.length][], query = new float[queryLabels.length][];
            for (int i = 0; i < support.length; i++) {
                supportLabels[i] = i / SHOTS;
                support[i] = noisy(means[supportLabels[i]], data);
            }
            for (int i = 0; i < query.length; i++) {
                queryLabels[i] = i / QUERIES;
                query[i] = noisy(means[queryLabels[i]], data);
            }
            EpisodeBatch episode = EpisodeBatch.of(support, supportLabels, query, queryLabels, WAYS, SIZE, DType.FLOAT32);
            double[] losses = new double[EPISODES];
            for (int e = 0; e < EPISODES; e++) {
                opt.zeroGrad();
                Tensor loss = model.forward(episode).loss();
                loss.backward();
                opt.step();
                losses[e] = loss.item();
            }
            return losses;
        } finally {
            Backends.setDefault(previous);
        }
    }

    private static float[] noisy(float[] mean, Rng rng) {
        float[] x = new float[mean.length];
        for (int i = 0; i < x.length; i++) x[i] = mean[i] + 1.5f * (float) rng.nextGaussian();
        return x;
    }

    @Test
    void protoNetEpisodeGivesTheReferenceLosses() {
        OpenClBackend cl = OpenClTestSupport.backend();
        TransferStats before = cl.transferStats();
        double[] ref = run(ReferenceBackend.INSTANCE);
        double[] ocl = run(cl);
        TransferStats used = cl.transferStats().minus(before);
        System.out.println("ProtoNet Conv-4 episode losses: reference " + Arrays.toString(ref) + ", opencl "
                + Arrays.toString(ocl) + "; opencl " + used);
        for (int e = 0; e < EPISODES; e++) {
            assertEquals(ref[e], ocl[e], LOSS_TOL[e] * Math.abs(ref[e]),
                    "loss of episode " + e + ": reference " + ref[e] + " opencl " + ocl[e]);
        }
        assertTrue(ocl[EPISODES - 1] < ocl[0], "loss did not fall");
        assertTrue(used.executes() > 0, "no OpenCL execute was counted");
        assertEquals(0, used.hostFallbacks());
        // Reads to the host over the whole OpenCL run (construction and both episodes): the losses,
        // the query labels read by crossEntropy's check, Adam's step counters; measured 200 B.
        // Max pooling's backward used to read its argmax indices back for a range check (65480 B).
        assertTrue(used.bytesToHost() <= 512, "bytes to host " + used.bytesToHost());
    }
}
