package io.github.grad4j.nn;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Each layer's forward against values computed independently in the test, on tiny inputs. */
class LayersTest {
    private static final DType F64 = DType.FLOAT64;

    static double[] values(Tensor t) {
        return t.toDoubleArray();
    }

    static Tensor param(Module m, String name) {
        Tensor t = m.namedParameters().get(name);
        assertNotNull(t, "no parameter " + name);
        return t;
    }

    @Test
    void linearMatchesExplicitLoop() {
        Rng rng = new Rng(1);
        Linear lin = new Linear(3, 2, true, rng, F64);
        Tensor x = Tensor.randn(rng, 1, F64, 2, 2, 3); // extra leading axis: Linear acts on the last one
        double[] out = values(lin.forward(x));
        double[] w = values(param(lin, "weight"));
        double[] b = values(param(lin, "bias"));
        double[] xs = values(x);
        for (int row = 0; row < 4; row++) {
            for (int o = 0; o < 2; o++) {
                double s = b[o];
                for (int k = 0; k < 3; k++) s += xs[row * 3 + k] * w[o * 3 + k];
                assertEquals(s, out[row * 2 + o], 1e-12);
            }
        }
        assertArrayEquals(new int[]{2, 2, 2}, lin.forward(x).shape());
    }

    /**
     * Sequential runs a BatchNorm2d followed by a ReLU (and a 2x2 max pooling) as one step: the same output, parameter
     * gradients, input gradient and running statistics (bit for bit) as running the two layers
     * one after the other, on the cpu backend in float32 (the fused kernel) and in evaluation mode.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void sequentialBatchNormThenReluMatchesTheLayersOneByOne(boolean pool) {
        for (boolean training : new boolean[]{true, false}) {
            double[][][] results = new double[2][][];
            for (int pass = 0; pass < 2; pass++)
            try (io.github.grad4j.tensor.Backends.Scope ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
                io.github.grad4j.tensor.Backends.setDefault(io.github.grad4j.backend.cpu.CpuBackend.create());
                Rng rng = new Rng(21);
                BatchNorm2d bn = new BatchNorm2d(4, 1e-5, 0.1, true, true, DType.FLOAT32);
                ReLU relu = new ReLU();
                MaxPool2d maxPool = new MaxPool2d(2);
                Sequential seq = pool ? new Sequential(bn, relu, maxPool) : new Sequential(bn, relu);
                seq.train(training);
                // running statistics away from their start, so evaluation mode normalizes with something
                try (GradMode.Scope noGrad = GradMode.noGrad()) {
                    bn.forward(Tensor.randn(new Rng(7), 2, DType.FLOAT32, 3, 4, 5, 6).add(0.5));
                }
                seq.train(training);
                Tensor x = Tensor.randn(rng, 1, DType.FLOAT32, 3, 4, 5, 6).requiresGrad(true);
                Tensor y = pass == 0 ? seq.forward(x) : relu.forward(bn.forward(x));
                if (pass == 1 && pool) y = maxPool.forward(y);
                Tensor w = Tensor.randn(new Rng(5), 1, DType.FLOAT32, y.shape()).to(y.backend());
                Tensor[] g = Autograd.grad(new Tensor[]{y}, new Tensor[]{x, param(bn, "weight"), param(bn, "bias")},
                        new Tensor[]{w}, false, false, true);
                results[pass] = new double[][]{values(y), values(g[0]), values(g[1]), values(g[2]),
                        values(bn.buffer("running_mean")), values(bn.buffer("running_var"))};
            }
            for (int i = 0; i < results[0].length; i++) {
                assertArrayEquals(results[1][i], results[0][i], 0.0, "training=" + training + ", result " + i);
            }
        }
    }

    /**
     * Sequential runs a one-channel 3x3 Conv2d followed by BatchNorm2d, ReLU and a 2x2 max pooling
     * as one step (the convolution recomputed, not kept; the profile shows the block's kernel) and
     * a three-channel one as separate steps: the same output, input gradient, batch norm gradients
     * and running statistics bit for bit as the layers one by one, and the convolution's gradients
     * to rounding (summed image by image), on the cpu backend in float32, training and evaluating.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {1, 3})
    void sequentialConvolutionBlockMatchesTheLayersOneByOne(int inChannels) {
        for (boolean training : new boolean[]{true, false}) {
            double[][][] results = new double[2][][];
            List<String> kernels = null;
            for (int pass = 0; pass < 2; pass++)
            try (io.github.grad4j.tensor.Backends.Scope ignored = io.github.grad4j.tensor.Backends.keepDefault()) {
                io.github.grad4j.tensor.Backends.setDefault(io.github.grad4j.backend.cpu.CpuBackend.create());
                Rng rng = new Rng(23);
                Conv2d conv = new Conv2d(inChannels, 5, 3, 1, 1, true, rng, DType.FLOAT32);
                BatchNorm2d bn = new BatchNorm2d(5, 1e-5, 0.1, true, true, DType.FLOAT32);
                ReLU relu = new ReLU();
                MaxPool2d maxPool = new MaxPool2d(2);
                Sequential seq = new Sequential(conv, bn, relu, maxPool);
                seq.train(true);
                try (GradMode.Scope noGrad = GradMode.noGrad()) {
                    seq.forward(Tensor.randn(new Rng(7), 2, DType.FLOAT32, 4, inChannels, 9, 8).add(0.5));
                }
                seq.train(training);
                Tensor x = Tensor.randn(rng, 1, DType.FLOAT32, 6, inChannels, 9, 8).requiresGrad(true);
                Tensor y;
                io.github.grad4j.backend.Profiler.enable();
                try {
                    y = pass == 0 ? seq.forward(x) : maxPool.forward(relu.forward(bn.forward(conv.forward(x))));
                } finally {
                    io.github.grad4j.backend.Profiler.disable();
                }
                if (pass == 0) kernels = io.github.grad4j.backend.Profiler.totals().stream().map(e -> e.name()).toList();
                Tensor w = Tensor.randn(new Rng(5), 1, DType.FLOAT32, y.shape()).to(y.backend());
                Tensor[] g = Autograd.grad(new Tensor[]{y}, new Tensor[]{x, param(bn, "weight"), param(bn, "bias"),
                        param(conv, "weight"), param(conv, "bias")}, new Tensor[]{w}, false, false, true);
                results[pass] = new double[][]{values(y), values(g[0]), values(g[1]), values(g[2]),
                        values(bn.buffer("running_mean")), values(bn.buffer("running_var")), values(g[3]), values(g[4])};
            }
            boolean block = training && inChannels == 1;
            assertEquals(block, kernels.contains("convBatchNormReluPool2x2 " + inChannels + ">5 9x8"),
                    "training=" + training + ": the block kernel ran, of " + kernels);
            for (int i = 0; i < results[0].length; i++) {
                double tolerance = i >= 6 && block ? 1e-5 * (1 + java.util.Arrays.stream(results[1][i]).map(Math::abs).max().orElse(0)) : 0;
                assertArrayEquals(results[1][i], results[0][i], tolerance, "training=" + training + ", result " + i);
            }
        }
    }

    @Test
    void linearWithoutBiasHasOnlyWeight() {
        Linear lin = new Linear(4, 3, false, new Rng(2), DType.FLOAT32);
        assertEquals(List.of("weight"), List.copyOf(lin.namedParameters().keySet()));
        assertArrayEquals(new int[]{3, 4}, param(lin, "weight").shape());
        assertEquals(DType.FLOAT32, param(lin, "weight").dtype());
    }

    @Test
    void linearAndConvInitFollowPyTorchDefaultBounds() {
        Linear lin = new Linear(50, 40, true, new Rng(3), DType.FLOAT32);
        checkUniform(values(param(lin, "weight")), 1 / Math.sqrt(50));
        checkUniform(values(param(lin, "bias")), 1 / Math.sqrt(50));
        Conv2d conv = new Conv2d(3, 30, 3, 1, 0, true, new Rng(4), DType.FLOAT32);
        checkUniform(values(param(conv, "weight")), 1 / Math.sqrt(27));
        checkUniform(values(param(conv, "bias")), 1 / Math.sqrt(27));
    }

    /** All values inside (-bound, bound), and spread over it (a narrower or wider init fails). */
    static void checkUniform(double[] v, double bound) {
        double max = 0;
        for (double d : v) {
            assertTrue(Math.abs(d) <= bound, d + " outside +-" + bound);
            max = Math.max(max, Math.abs(d));
        }
        assertTrue(max > 0.85 * bound, "max |value| " + max + " is far below the bound " + bound);
    }

    @Test
    void sameSeedSameWeights() {
        Linear a = new Linear(5, 4, new Rng(9)), b = new Linear(5, 4, new Rng(9)), c = new Linear(5, 4, new Rng(10));
        assertArrayEquals(values(param(a, "weight")), values(param(b, "weight")));
        assertArrayEquals(values(param(a, "bias")), values(param(b, "bias")));
        assertFalse(java.util.Arrays.equals(values(param(a, "weight")), values(param(c, "weight"))));
    }

    @Test
    void linearRejectsWrongFeatureCountNamingLayerAndShape() {
        Linear lin = new Linear(3, 2, new Rng(1));
        var e = assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.zeros(DType.FLOAT32, 4, 5)));
        assertTrue(e.getMessage().contains("Linear(3 -> 2)") && e.getMessage().contains("[4, 5]"), e.getMessage());
    }

    @Test
    void embeddingPicksRowsAndRejectsBadIds() {
        Embedding emb = new Embedding(5, 3, new Rng(1), F64);
        double[] w = values(param(emb, "weight"));
        Tensor ids = Tensor.ofInts(new int[]{4, 0, 4, 2}, 2, 2);
        Tensor out = emb.forward(ids);
        assertArrayEquals(new int[]{2, 2, 3}, out.shape());
        int[] id = {4, 0, 4, 2};
        double[] o = values(out);
        for (int i = 0; i < 4; i++) for (int d = 0; d < 3; d++) assertEquals(w[id[i] * 3 + d], o[i * 3 + d]);
        assertThrows(IndexOutOfBoundsException.class, () -> emb.forward(Tensor.ofInts(new int[]{5}, 1)));
        var e = assertThrows(IllegalArgumentException.class, () -> emb.forward(Tensor.zeros(F64, 2)));
        assertTrue(e.getMessage().contains("Embedding(5, 3)"), e.getMessage());
    }

    @Test
    void embeddingInitIsStandardNormal() {
        double[] w = values(param(new Embedding(100, 40, new Rng(5)), "weight"));
        double mean = 0, sq = 0;
        for (double d : w) {
            mean += d;
            sq += d * d;
        }
        mean /= w.length;
        double std = Math.sqrt(sq / w.length - mean * mean);
        assertEquals(0, mean, 0.05);
        assertEquals(1, std, 0.05);
    }

    @Test
    void layerNormMatchesHandComputation() {
        Rng rng = new Rng(6);
        LayerNorm ln = new LayerNorm(new int[]{4}, 1e-5, true, F64);
        Tensor gamma = Tensor.randn(rng, 1, F64, 4), beta = Tensor.randn(rng, 1, F64, 4);
        Tensor x = Tensor.randn(rng, 2, F64, 3, 4);
        Tensor y = ln.functionalCall(Map.of("weight", gamma, "bias", beta), () -> ln.forward(x));
        double[] xs = values(x), ys = values(y), g = values(gamma), b = values(beta);
        for (int r = 0; r < 3; r++) {
            double mean = 0, var = 0;
            for (int k = 0; k < 4; k++) mean += xs[r * 4 + k] / 4;
            for (int k = 0; k < 4; k++) var += (xs[r * 4 + k] - mean) * (xs[r * 4 + k] - mean) / 4;
            for (int k = 0; k < 4; k++) {
                assertEquals((xs[r * 4 + k] - mean) / Math.sqrt(var + 1e-5) * g[k] + b[k], ys[r * 4 + k], 1e-12);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> ln.forward(Tensor.zeros(F64, 3, 5)));
    }

    @Test
    void conv2dMatchesNestedLoops() {
        Rng rng = new Rng(7);
        int n = 2, c = 2, h = 5, w = 4, o = 3, k = 3, stride = 2, pad = 1;
        Conv2d conv = new Conv2d(c, o, k, stride, pad, true, rng, F64);
        Tensor x = Tensor.randn(rng, 1, F64, n, c, h, w);
        Tensor y = conv.forward(x);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        assertArrayEquals(new int[]{n, o, oh, ow}, y.shape());
        Tensor weight = param(conv, "weight"), bias = param(conv, "bias");
        for (int b = 0; b < n; b++) for (int oc = 0; oc < o; oc++) for (int i = 0; i < oh; i++) for (int j = 0; j < ow; j++) {
            double s = bias.get(oc);
            for (int ic = 0; ic < c; ic++) for (int ki = 0; ki < k; ki++) for (int kj = 0; kj < k; kj++) {
                int r = i * stride - pad + ki, col = j * stride - pad + kj;
                if (r >= 0 && r < h && col >= 0 && col < w) s += x.get(b, ic, r, col) * weight.get(oc, ic, ki, kj);
            }
            assertEquals(s, y.get(b, oc, i, j), 1e-12);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> conv.forward(Tensor.zeros(F64, 1, 3, 5, 5)));
        assertTrue(e.getMessage().contains("Conv2d(2, 3") && e.getMessage().contains("[1, 3, 5, 5]"), e.getMessage());
    }

    @Test
    void batchNorm2dRunningStatisticsAfterTwoStepsFollowTheFormulas() {
        Rng rng = new Rng(8);
        double momentum = 0.3, eps = 1e-5;
        BatchNorm2d bn = new BatchNorm2d(2, eps, momentum, true, true, F64);
        assertEquals(List.of("weight", "bias"), List.copyOf(bn.namedParameters().keySet()));
        assertEquals(List.of("running_mean", "running_var", "num_batches_tracked"), List.copyOf(bn.namedBuffers().keySet()));
        double[] runMean = {0, 0}, runVar = {1, 1};
        for (int stepIndex = 0; stepIndex < 2; stepIndex++) {
            Tensor x = Tensor.randn(rng, 1.5, F64, 3, 2, 2, 2).add(stepIndex + 1.0);
            Tensor y = bn.forward(x);
            for (int ch = 0; ch < 2; ch++) {
                double mean = 0, ss = 0;
                int count = 3 * 2 * 2;
                for (int b = 0; b < 3; b++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) mean += x.get(b, ch, i, j) / count;
                for (int b = 0; b < 3; b++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {
                    ss += Math.pow(x.get(b, ch, i, j) - mean, 2);
                }
                double biased = ss / count, unbiased = ss / (count - 1);
                for (int b = 0; b < 3; b++) for (int i = 0; i < 2; i++) for (int j = 0; j < 2; j++) {
                    assertEquals((x.get(b, ch, i, j) - mean) / Math.sqrt(biased + eps), y.get(b, ch, i, j), 1e-12);
                }
                runMean[ch] = (1 - momentum) * runMean[ch] + momentum * mean;
                runVar[ch] = (1 - momentum) * runVar[ch] + momentum * unbiased;
            }
        }
        assertArrayEquals(runMean, values(bn.namedBuffers().get("running_mean")), 1e-12);
        assertArrayEquals(runVar, values(bn.namedBuffers().get("running_var")), 1e-12);
        assertEquals(2, bn.numBatchesTracked());

        bn.eval();
        Tensor x = Tensor.randn(rng, 1, F64, 1, 2, 2, 2);
        Tensor y = bn.forward(x);
        for (int ch = 0; ch < 2; ch++) {
            assertEquals((x.get(0, ch, 1, 0) - runMean[ch]) / Math.sqrt(runVar[ch] + eps), y.get(0, ch, 1, 0), 1e-12);
        }
        assertEquals(2, bn.numBatchesTracked(), "eval must not update running statistics");
        assertArrayEquals(runMean, values(bn.namedBuffers().get("running_mean")), 1e-12);
    }

    @Test
    void batchNorm2dWithoutRunningStatsUsesBatchStatisticsInEval() {
        BatchNorm2d bn = new BatchNorm2d(2, 1e-5, 0.1, false, false, F64);
        assertTrue(bn.stateDict().isEmpty());
        bn.eval();
        Tensor x = Tensor.randn(new Rng(3), 1, F64, 4, 2, 1, 1).add(5.0);
        double[] y = values(bn.forward(x));
        double sum = 0;
        for (int b = 0; b < 4; b++) sum += y[b * 2];
        assertEquals(0, sum, 1e-9, "batch-normalized channel should have zero mean");
    }

    @Test
    void dropoutZeroesAndScalesInTrainingOnlyAndIsSeeded() {
        double p = 0.25;
        Tensor x = Tensor.full(2.0, F64, 2000);
        Dropout d1 = new Dropout(p, new Rng(11)), d2 = new Dropout(p, new Rng(11));
        double[] y1 = values(d1.forward(x)), y2 = values(d2.forward(x));
        assertArrayEquals(y1, y2);
        int zeros = 0;
        for (double v : y1) {
            if (v == 0) zeros++;
            else assertEquals(2.0 / (1 - p), v, 1e-12);
        }
        assertEquals(p, zeros / 2000.0, 0.04);
        d1.eval();
        assertArrayEquals(values(x), values(d1.forward(x)));
        assertThrows(IllegalArgumentException.class, () -> new Dropout(1.0, new Rng(1)));
    }

    @Test
    void dropoutGradientIsTheMask() {
        Dropout d = new Dropout(0.5, new Rng(12));
        Tensor x = Tensor.randn(new Rng(1), 1, F64, 50).requiresGrad(true);
        Tensor y = d.forward(x);
        y.sum().backward();
        double[] ys = values(y), xs = values(x), g = values(x.grad());
        for (int i = 0; i < 50; i++) assertEquals(ys[i] == 0 ? 0 : 2.0, g[i], 1e-12, "element " + i + " x=" + xs[i]);
    }

    @Test
    void reluGeluMaxPoolFlattenAgainstFormulas() {
        Tensor x = Tensor.of(new double[]{-2, -0.5, 0, 0.5, 1, 3, -1, 2}, F64, 1, 2, 2, 2);
        double[] xs = values(x);
        double[] relu = values(new ReLU().forward(x));
        double[] gelu = values(new GELU().forward(x));
        for (int i = 0; i < xs.length; i++) {
            assertEquals(Math.max(xs[i], 0), relu[i]);
            double v = xs[i];
            assertEquals(0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), gelu[i], 1e-12);
        }
        Tensor pooled = new MaxPool2d(2).forward(x);
        assertArrayEquals(new double[]{0.5, 3}, values(pooled));
        Tensor img = Tensor.randn(new Rng(2), 1, F64, 1, 1, 4, 5);
        Tensor p2 = new MaxPool2d(3, 2, 1).forward(img);
        assertArrayEquals(new int[]{1, 1, 2, 3}, p2.shape());
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int a = i * 2 - 1; a < i * 2 + 2; a++) for (int b = j * 2 - 1; b < j * 2 + 2; b++) {
                if (a >= 0 && a < 4 && b >= 0 && b < 5) m = Math.max(m, img.get(0, 0, a, b));
            }
            assertEquals(m, p2.get(0, 0, i, j));
        }
        Tensor flat = new Flatten().forward(x);
        assertArrayEquals(new int[]{1, 8}, flat.shape());
        assertArrayEquals(xs, values(flat));
    }

    @Test
    void sequentialNamesChildrenLikePyTorch() {
        Rng rng = new Rng(1);
        Sequential s = new Sequential(new Conv2d(1, 2, 3, 1, 1, rng), new BatchNorm2d(2), new ReLU(), new Flatten(),
                new Linear(2 * 4 * 4, 3, rng));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias", "4.weight", "4.bias"),
                List.copyOf(s.namedParameters().keySet()));
        assertEquals(List.of("1.running_mean", "1.running_var", "1.num_batches_tracked"), List.copyOf(s.namedBuffers().keySet()));
        assertArrayEquals(new int[]{2, 3}, s.forward(Tensor.randn(rng, 1, DType.FLOAT32, 2, 1, 4, 4)).shape());
        s.eval();
        assertFalse(s.get(1).isTraining());
    }
}
