package io.github.grad4j.backend.opencl;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * End to end: a two-layer MLP trained with SGD on the OpenCL backend gives the reference
 * backend's losses (both FLOAT32, same seed), and a training step moves only a few hundred bytes
 * of data plus the per-execute parameter blocks: the weights stay on the device.
 */
class OpenClTrainingTest {
    private static final int BATCH = 16, IN = 12, HIDDEN = 64, CLASSES = 5, STEPS = 8;
    private static final double LR = 0.1;
    /** Relative agreement of each step's loss (float32 on both sides; orders of summation differ). */
    private static final double LOSS_TOL = 1e-4;

    private record Run(double[] losses, TransferStats perStep) {
    }

    private static Run train(Backend backend, OpenClBackend counter) {
        Backend previous = Backends.defaultBackend();
        Backends.setDefault(backend);
        try {
            Rng rng = new Rng(7);
            Tensor x = Tensor.randn(rng, 1, io.github.grad4j.backend.DType.FLOAT32, BATCH, IN);
            int[] labels = new int[BATCH];
            for (int i = 0; i < BATCH; i++) labels[i] = rng.nextInt(CLASSES);
            Tensor y = Tensor.ofInts(labels, BATCH);
            Tensor w1 = Tensor.randn(rng, 1 / Math.sqrt(IN), io.github.grad4j.backend.DType.FLOAT32, IN, HIDDEN).requiresGrad(true);
            Tensor b1 = Tensor.zeros(io.github.grad4j.backend.DType.FLOAT32, HIDDEN).requiresGrad(true);
            Tensor w2 = Tensor.randn(rng, 1 / Math.sqrt(HIDDEN), io.github.grad4j.backend.DType.FLOAT32, HIDDEN, CLASSES).requiresGrad(true);
            Tensor b2 = Tensor.zeros(io.github.grad4j.backend.DType.FLOAT32, CLASSES).requiresGrad(true);
            Tensor[] params = {w1, b1, w2, b2};
            double[] losses = new double[STEPS];
            TransferStats start = null;
            for (int step = 0; step < STEPS; step++) {
                if (step == 1 && counter != null) start = counter.transferStats(); // step 0 includes warm-up
                Tensor loss = Functional.crossEntropy(x.matmul(w1).add(b1).relu().matmul(w2).add(b2), y);
                loss.backward();
                losses[step] = loss.item();
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    for (Tensor p : params) {
                        p.assign(p.sub(p.grad().mul(LR)));
                        p.setGrad(null);
                    }
                }
            }
            TransferStats perStep = null;
            if (counter != null) {
                TransferStats d = counter.transferStats().minus(start);
                int n = STEPS - 1;
                perStep = new TransferStats(d.bytesToDevice() / n, d.bytesToHost() / n, d.executes() / n,
                        d.paramBytesToDevice() / n, d.poolGrowths(), d.hostFallbacks());
            }
            return new Run(losses, perStep);
        } finally {
            Backends.setDefault(previous);
        }
    }

    @Test
    void mlpTrainsToTheSameLossesAsTheReferenceWithResidentWeights() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Run ref = train(ReferenceBackend.INSTANCE, null);
        Run ocl = train(cl, cl);
        for (int i = 0; i < STEPS; i++) {
            assertEquals(ref.losses[i], ocl.losses[i], LOSS_TOL * Math.abs(ref.losses[i]),
                    "loss at step " + i + ": reference " + ref.losses[i] + " opencl " + ocl.losses[i]);
        }
        assertTrue(ocl.losses[STEPS - 1] < ocl.losses[0], "loss did not fall");

        TransferStats s = ocl.perStep;
        System.out.println("opencl MLP step (" + BATCH + "x" + IN + " -> " + HIDDEN + " -> " + CLASSES + "): " + s);
        long weightBytes = 4L * (IN * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES);
        long dataBytes = s.bytesToDevice() - s.paramBytesToDevice() + s.bytesToHost();
        // per step: the loss scalar, the labels checked by crossEntropy, the scalar constants (lr,
        // 1/N), never the weights or activations
        assertTrue(dataBytes <= 512, "data bytes per step " + dataBytes + " (weights are " + weightBytes + " B)");
        assertTrue(dataBytes < weightBytes / 20, "data bytes per step " + dataBytes + " vs weights " + weightBytes);
        assertEquals(0, s.poolGrowths());
        assertEquals(0, s.hostFallbacks());
    }
}
