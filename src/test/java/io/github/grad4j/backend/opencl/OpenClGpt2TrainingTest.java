package io.github.grad4j.backend.opencl;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.experiments.gpt2.Gpt2Config;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.optim.AdamW;
import io.github.grad4j.optim.Optimizer;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A tiny GPT-2 trained with AdamW on the OpenCL backend gives the reference backend's losses (same
 * seed, FLOAT32 storage on both), and after the first step a training step moves only the batch's
 * token ids, the loss and a few scalars between host and device: parameters, gradients and the
 * optimizer's moments stay in the device pool.
 *
 * <p>Not bounded here: the parameter block every execute sends (384 B, ~1310 executes per step,
 * ~503 KB per step). It depends on the number of kernel launches, not on the width, so for this
 * tiny model it exceeds the parameter bytes, while for GPT-2 small (~500 MB of weights) it is ~0.1%.
 */
class OpenClGpt2TrainingTest {
    private static final Gpt2Config CONFIG = new Gpt2Config(2, 2, 32, 8, 50);
    private static final int BATCH = 2, STEPS = 5;
    /**
     * Relative agreement of each step's loss. Both backends store float32; the reference computes
     * each op in float64 and rounds on store, OpenCL computes in float32 and sums in other orders,
     * so activations differ by a few float32 ulps, and Adam's normalised steps can amplify tiny
     * gradient differences. Measured: at most 1 ulp of the loss (~1e-7 relative) over 5 steps;
     * 2e-5 leaves 100x margin while a wrong kernel (e.g. a dropped mask or a wrong scale)
     * moves the loss by far more than 1e-3.
     */
    private static final double LOSS_TOL = 2e-5;
    /**
     * Data bytes per step after warm-up (both directions, the fixed per-execute parameter blocks
     * excluded), measured 2824 B with width 16 and the same with width 32, since nothing in it
     * depends on the width. What it is made of (per step):
     * to device: token ids + targets 128 B, positions 32 B, the causal mask 8x8 floats uploaded by
     * each attention forward and backward (2 layers: 1024 B), broadcast scalars of the composite
     * defaults (AdamW 36-40 B per parameter tensor, 28 tensors: ~1050 B; layer norm, GELU, softmax
     * constants: the rest);
     * to host: the loss 4 B, AdamW's step counter read per parameter tensor 112 B, and index checks
     * reading the ids or targets (embedding lookup and its backward, Gpt2Model.checkIds,
     * crossEntropy: 320 B).
     * The bound 4 KiB: ~1.45x the measured figure (the counts are deterministic), and smaller than
     * one round trip of any weight matrix (32x32 floats = 4 KiB), so a matrix, its gradient or an
     * Adam moment leaving the device fails the test.
     */
    private static final long DATA_BYTES_PER_STEP_BOUND = 4096;

    private record Run(double[] losses, TransferStats perStep, long parameterBytes) {
    }

    private static Run train(Backend backend, OpenClBackend counter) {
        Backend previous = Backends.defaultBackend();
        Backends.setDefault(backend);
        try {
            Gpt2Model model = new Gpt2Model(CONFIG, new Rng(42));
            model.train(true);
            Optimizer opt = new AdamW(model.namedParameters(), 1e-2, 0.9, 0.95, 1e-8, 0.1)
                    .setWeightDecayFilter(Optimizer.DECAY_MATRICES_ONLY);
            int n = BATCH * CONFIG.nPositions();
            int[] ids = new int[n], targets = new int[n];
            Rng data = new Rng(7);
            for (int i = 0; i < n; i++) ids[i] = data.nextInt(CONFIG.vocabSize());
            for (int i = 0; i < n; i++) targets[i] = i + 1 < n ? ids[i + 1] : 0;
            double[] losses = new double[STEPS];
            TransferStats start = null;
            for (int step = 0; step < STEPS; step++) {
                if (step == 1 && counter != null) start = counter.transferStats(); // step 0: kernel translation, state allocation
                // the batch is uploaded every step, as a training loop does
                Tensor x = Tensor.ofInts(ids, BATCH, CONFIG.nPositions()), y = Tensor.ofInts(targets, BATCH, CONFIG.nPositions());
                opt.zeroGrad();
                Tensor loss = model.loss(x, y);
                loss.backward();
                opt.step();
                losses[step] = loss.item();
            }
            TransferStats perStep = null;
            if (counter != null) {
                TransferStats d = counter.transferStats().minus(start);
                int k = STEPS - 1;
                perStep = new TransferStats(d.bytesToDevice() / k, d.bytesToHost() / k, d.executes() / k,
                        d.paramBytesToDevice() / k, d.poolGrowths(), d.hostFallbacks());
            }
            return new Run(losses, perStep, 4L * model.parameterCount());
        } finally {
            Backends.setDefault(previous);
        }
    }

    @Test
    void tinyGpt2TrainsToTheReferenceLossesWithResidentState() {
        OpenClBackend cl = OpenClTestSupport.backend();
        Run ref = train(ReferenceBackend.INSTANCE, null);
        Run ocl = train(cl, cl);
        System.out.println("tiny GPT-2 losses: reference " + java.util.Arrays.toString(ref.losses)
                + ", opencl " + java.util.Arrays.toString(ocl.losses));
        for (int i = 0; i < STEPS; i++) {
            assertEquals(ref.losses[i], ocl.losses[i], LOSS_TOL * Math.abs(ref.losses[i]),
                    "loss at step " + i + ": reference " + ref.losses[i] + " opencl " + ocl.losses[i]);
        }
        assertTrue(ocl.losses[STEPS - 1] < ocl.losses[0], "loss did not fall");

        TransferStats s = ocl.perStep;
        long dataBytes = s.bytesToDevice() - s.paramBytesToDevice() + s.bytesToHost();
        System.out.println("opencl tiny GPT-2 step: " + s + "; data bytes " + dataBytes + ", parameters " + ocl.parameterBytes + " B");
        assertTrue(dataBytes <= DATA_BYTES_PER_STEP_BOUND, "data bytes per step " + dataBytes + " > bound "
                + DATA_BYTES_PER_STEP_BOUND + " (parameters are " + ocl.parameterBytes + " B)");
        assertTrue(dataBytes < ocl.parameterBytes / 20, "data bytes per step " + dataBytes + " vs parameters " + ocl.parameterBytes);
        assertEquals(0, s.poolGrowths());
        assertEquals(0, s.hostFallbacks());
    }
}
