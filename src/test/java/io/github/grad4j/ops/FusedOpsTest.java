package io.github.grad4j.ops;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.cpu.CpuBackend;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fused ops (softmax, logSoftmax, layerNorm, crossEntropy, attention, GELU's backward):
 * gradcheck and gradgradcheck in FLOAT64 on the reference backend (whose fused kernels are the
 * composite defaults of Backend), and the fused path against the composite path
 * ({@link Fusion#disabled()}) on the cpu backend in FLOAT32 on awkward shapes, values and gradients.
 */
class FusedOpsTest {
    static final Backend REF = ReferenceBackend.INSTANCE;
    static final CpuBackend CPU = CpuBackend.create();
    static final GradCheck CHECK = GradCheck.float64();

    static Tensor randn(Rng rng, DType dt, Backend b, int... shape) {
        return Tensor.randn(rng, 1.0, dt, shape).to(b);
    }

    static Tensor ints(Backend b, int[] v) {
        return Tensor.ofInts(v, v.length).to(b);
    }

    static void grads(String what, Function<Tensor[], Tensor> f, Tensor... in) {
        GradCheck.Result r = CHECK.gradcheck(f, in, new Rng(1));
        assertTrue(r.passed(), what + " gradcheck: " + r);
        GradCheck.Result rr = CHECK.gradgradcheck(f, in, new Rng(2));
        assertTrue(rr.passed(), what + " gradgradcheck: " + rr);
    }

    @Test
    void gradchecksFloat64OnReference() {
        Rng rng = new Rng(7);
        grads("softmax", x -> Functional.softmax(x[0], -1), randn(rng, DType.FLOAT64, REF, 3, 5));
        grads("logSoftmax", x -> Functional.logSoftmax(x[0], 1), randn(rng, DType.FLOAT64, REF, 2, 7));
        grads("layerNorm", x -> Functional.layerNorm(x[0], new int[]{9}, x[1], x[2], 1e-5),
                randn(rng, DType.FLOAT64, REF, 2, 3, 9), randn(rng, DType.FLOAT64, REF, 9), randn(rng, DType.FLOAT64, REF, 9));
        grads("layerNorm 2 axes, no affine", x -> Functional.layerNorm(x[0], new int[]{2, 4}, null, null, 1e-5),
                randn(rng, DType.FLOAT64, REF, 3, 2, 4));
        Tensor targets = ints(REF, new int[]{2, -1, 0, 5});
        for (Functional.Reduction red : Functional.Reduction.values()) {
            grads("crossEntropy " + red, x -> Functional.crossEntropy(x[0], targets, -1, red), randn(rng, DType.FLOAT64, REF, 4, 6));
        }
        for (boolean causal : new boolean[]{true, false}) {
            grads("attention causal=" + causal, x -> Functional.scaledDotProductAttention(x[0], x[1], x[2], causal),
                    randn(rng, DType.FLOAT64, REF, 2, 1, 3, 4), randn(rng, DType.FLOAT64, REF, 2, 1, 5, 4),
                    randn(rng, DType.FLOAT64, REF, 2, 1, 5, 3));
        }
        grads("attention rank 3", x -> Functional.scaledDotProductAttention(x[0], x[1], x[2], true),
                randn(rng, DType.FLOAT64, REF, 2, 3, 2), randn(rng, DType.FLOAT64, REF, 2, 3, 2), randn(rng, DType.FLOAT64, REF, 2, 3, 2));
        grads("gelu", x -> Pointwise.gelu(x[0]), randn(rng, DType.FLOAT64, REF, 4, 3));
        grads("batchNorm", x -> Functional.batchNorm(x[0], null, null, x[1], x[2], true, 0.1, 1e-5),
                randn(rng, DType.FLOAT64, REF, 3, 2, 2, 3), randn(rng, DType.FLOAT64, REF, 2), randn(rng, DType.FLOAT64, REF, 2));
        grads("batchNorm [N, C], no affine", x -> Functional.batchNorm(x[0], null, null, null, null, true, 0.1, 1e-5),
                randn(rng, DType.FLOAT64, REF, 4, 3));
        grads("batchNormRelu", x -> Functional.batchNormRelu(x[0], null, null, x[1], x[2], true, 0.1, 1e-5),
                randn(rng, DType.FLOAT64, REF, 3, 2, 2, 3), randn(rng, DType.FLOAT64, REF, 2), randn(rng, DType.FLOAT64, REF, 2));
        grads("batchNormReluMaxPool2x2", x -> Functional.batchNormReluMaxPool2x2(x[0], null, null, x[1], x[2], true, 0.1, 1e-5),
                randn(rng, DType.FLOAT64, REF, 3, 2, 4, 5), randn(rng, DType.FLOAT64, REF, 2), randn(rng, DType.FLOAT64, REF, 2));
        grads("convBatchNormReluMaxPool2x2", x -> Functional.convBatchNormReluMaxPool2x2(x[0], x[1], x[2], 1, null, null,
                        x[3], x[4], true, 0.1, 1e-5),
                randn(rng, DType.FLOAT64, REF, 3, 1, 4, 5), randn(rng, DType.FLOAT64, REF, 2, 1, 3, 3),
                randn(rng, DType.FLOAT64, REF, 2), randn(rng, DType.FLOAT64, REF, 2), randn(rng, DType.FLOAT64, REF, 2));
    }

    /**
     * A convolution block as one op (the convolution recomputed, not kept) against conv2d and
     * batchNormReluMaxPool2x2 in turn, FLOAT32 on the cpu backend (vector and scalar kernels, one and
     * three threads) and on the reference: the pooled values, the input gradient and batch norm's
     * gradients are the same bits (the same products and sums in the same order); the
     * convolution's weight and bias gradients are summed image by image instead of in chunks of
     * images, so they agree to rounding (bit for bit on the reference, whose block runs the two
     * ops). Shapes: the first Conv-4 block, odd sizes (last row and column not pooled), 3 input
     * channels, a 1x1 kernel (over two channels: over one, batch norm cancels the weight and its gradient is rounding), padding 2, outputs narrower than the vector width, and one image
     * (fewer images than threads: the composite default).
     */
    @Test
    void convolutionBlockMatchesTheOpsInTurn() {
        Rng rng = new Rng(21);
        DType f = DType.FLOAT32;
        // N, C, H, W, O, k, padding
        int[][] shapes = {{4, 1, 28, 28, 64, 3, 1}, {3, 1, 7, 7, 4, 3, 1}, {5, 2, 5, 3, 3, 3, 1}, {3, 3, 9, 11, 5, 3, 2},
                {6, 2, 16, 16, 16, 1, 0}, {2, 1, 2, 2, 1, 3, 1}, {1, 1, 6, 6, 3, 3, 1}, {7, 1, 13, 13, 17, 3, 1}};
        for (Backend backend : new Backend[]{CPU, CpuBackend.create(1, true), CpuBackend.create(3, false), REF}) {
            for (int[] t : shapes) {
                for (boolean parameters : new boolean[]{true, false}) {
                    int o = t[4], pad = t[6];
                    String what = "convBatchNormReluMaxPool2x2 " + java.util.Arrays.toString(t) + " biases and affine="
                            + parameters + " on " + backend.name();
                    Tensor[] in = parameters
                            ? new Tensor[]{randn(rng, f, backend, t[0], t[1], t[2], t[3]), randn(rng, f, backend, o, t[1], t[5], t[5]),
                            randn(rng, f, backend, o), randn(rng, f, backend, o), randn(rng, f, backend, o)}
                            : new Tensor[]{randn(rng, f, backend, t[0], t[1], t[2], t[3]), randn(rng, f, backend, o, t[1], t[5], t[5])};
                    Function<Tensor[], Tensor> block = x -> Functional.convBatchNormReluMaxPool2x2(x[0], x[1],
                            parameters ? x[2] : null, pad, null, null, parameters ? x[3] : null, parameters ? x[4] : null,
                            true, 0.1, 1e-5);
                    Function<Tensor[], Tensor> inTurn = x -> Functional.batchNormReluMaxPool2x2(
                            Convolution.conv2d(x[0], x[1], parameters ? x[2] : null, 1, pad), null, null,
                            parameters ? x[3] : null, parameters ? x[4] : null, true, 0.1, 1e-5);
                    Tensor[] fusedResult = valueAndGrads(block, in), composedResult = valueAndGrads(inTurn, in);
                    for (int i = 0; i < fusedResult.length; i++) {
                        double[] expected = composedResult[i].toDoubleArray(), actual = fusedResult[i].toDoubleArray();
                        boolean convolutionParameter = i == 2 || i == 3;
                        if (convolutionParameter && backend != REF) {
                            double scale = java.util.Arrays.stream(expected).map(Math::abs).max().orElse(0);
                            assertArrayEquals(expected, actual, 1e-5 * (1 + scale), what + " result " + i);
                        } else {
                            assertArrayEquals(expected, actual, 0.0, what + " result " + i);
                        }
                    }
                    // against the composite ops (float32 rounding apart); the convolution's bias is a
                    // constant here: batch norm removes it, so its gradient is 0 up to rounding noise
                    Tensor convBias = parameters ? in[2] : null;
                    Tensor[] rest = parameters ? new Tensor[]{in[0], in[1], in[3], in[4]} : in;
                    fusedMatchesComposite(what, x -> Functional.convBatchNormReluMaxPool2x2(x[0], x[1], convBias, pad, null, null,
                            parameters ? x[2] : null, parameters ? x[3] : null, true, 0.1, 1e-5), 2e-4, rest);
                }
            }
        }
    }

    /**
     * The block when the image needs no gradient (a network's first layer): the cpu backend then
     * takes the convolution's gradients in the same pass as batch norm's sums (three sums per tap,
     * combined afterwards) on an image centred on its mean. Against the ops in turn, FLOAT32: the
     * values and batch norm's gradients bit for bit, the convolution's gradients to rounding, on
     * images far from zero (mostly 1 with a few 0 strokes, as Omniglot's) and on normal values.
     */
    @Test
    void convolutionBlockWithoutTheImageGradientMatchesTheOpsInTurn() {
        Rng rng = new Rng(24);
        for (Backend backend : new Backend[]{CPU, CpuBackend.create(1, true), CpuBackend.create(3, false)}) {
            for (int[] t : new int[][]{{6, 28, 28, 64}, {5, 17, 19, 7}, {3, 16, 16, 5}, {4, 9, 9, 3}}) {
                for (boolean strokes : new boolean[]{true, false}) {
                    int n = t[0], h = t[1], wd = t[2], o = t[3];
                    double[] pixels = new double[n * h * wd];
                    for (int i = 0; i < pixels.length; i++) pixels[i] = strokes ? (rng.nextDouble() < 0.2 ? 0 : 1) : rng.nextGaussian();
                    Tensor image = Tensor.of(pixels, DType.FLOAT32, n, 1, h, wd).to(backend);
                    Tensor[] in = {randn(rng, DType.FLOAT32, backend, o, 1, 3, 3), randn(rng, DType.FLOAT32, backend, o),
                            randn(rng, DType.FLOAT32, backend, o), randn(rng, DType.FLOAT32, backend, o)};
                    String what = "convBatchNormReluMaxPool2x2 of a constant image " + java.util.Arrays.toString(t)
                            + (strokes ? " strokes" : " normal") + " on " + backend.name();
                    Tensor[] fusedResult = valueAndGrads(x -> Functional.convBatchNormReluMaxPool2x2(image, x[0], x[1], 1, null, null,
                            x[2], x[3], true, 0.1, 1e-5), in);
                    Tensor[] composedResult = valueAndGrads(x -> Functional.batchNormReluMaxPool2x2(
                            Convolution.conv2d(image, x[0], x[1], 1, 1), null, null, x[2], x[3], true, 0.1, 1e-5), in);
                    for (int i = 0; i < fusedResult.length; i++) {
                        double[] expected = composedResult[i].toDoubleArray(), actual = fusedResult[i].toDoubleArray();
                        boolean convolutionParameter = i == 1 || i == 2;
                        double scale = convolutionParameter ? java.util.Arrays.stream(expected).map(Math::abs).max().orElse(0) : 0;
                        // the bias's gradient is 0 but for rounding: compared at the scale of the weight's
                        if (i == 2) scale = java.util.Arrays.stream(composedResult[1].toDoubleArray()).map(Math::abs).max().orElse(0);
                        assertArrayEquals(expected, actual, convolutionParameter ? 2e-5 * (1 + scale) : 0.0, what + " result " + i);
                    }
                }
            }
        }
    }

    /** The block's results do not depend on the number of threads, bit for bit. */
    @Test
    void convolutionBlockIsTheSameForAnyThreadCount() {
        Rng rng = new Rng(22);
        Tensor[] in = {randn(rng, DType.FLOAT32, REF, 9, 1, 12, 12), randn(rng, DType.FLOAT32, REF, 6, 1, 3, 3),
                randn(rng, DType.FLOAT32, REF, 6), randn(rng, DType.FLOAT32, REF, 6), randn(rng, DType.FLOAT32, REF, 6)};
        double[][] first = null;
        for (int threads : new int[]{1, 2, 3, 5}) {
            CpuBackend cpu = CpuBackend.create(threads, true);
            Tensor[] on = new Tensor[in.length];
            for (int i = 0; i < in.length; i++) on[i] = in[i].to(cpu);
            Tensor[] r = valueAndGrads(x -> Functional.convBatchNormReluMaxPool2x2(x[0], x[1], x[2], 1, null, null, x[3], x[4],
                    true, 0.1, 1e-5), on);
            double[][] values = new double[r.length][];
            for (int i = 0; i < r.length; i++) values[i] = r[i].toDoubleArray();
            if (first == null) first = values;
            for (int i = 0; i < r.length; i++) assertArrayEquals(first[i], values[i], 0.0, "result " + i + " with " + threads + " threads");
        }
    }

    /**
     * The block's running statistics and its createGraph backward (second and third derivatives,
     * as MAML takes them) against the ops in turn, FLOAT64 on the cpu backend.
     */
    @Test
    void convolutionBlockStatisticsAndHigherDerivativesMatchTheOpsInTurn() {
        Rng rng = new Rng(23);
        Tensor x0 = randn(rng, DType.FLOAT64, CPU, 4, 1, 6, 7), w0 = randn(rng, DType.FLOAT64, CPU, 3, 1, 3, 3);
        Tensor cb0 = randn(rng, DType.FLOAT64, CPU, 3), g0 = randn(rng, DType.FLOAT64, CPU, 3), b0 = randn(rng, DType.FLOAT64, CPU, 3);
        double[][] out = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            Tensor x = Views.clone(x0).requiresGrad(true), w = Views.clone(w0).requiresGrad(true);
            Tensor cb = Views.clone(cb0).requiresGrad(true), gamma = Views.clone(g0).requiresGrad(true);
            Tensor beta = Views.clone(b0).requiresGrad(true);
            Tensor runningMean = Tensor.zeros(DType.FLOAT64, 3).to(CPU), runningVar = Tensor.ones(DType.FLOAT64, 3).to(CPU);
            Tensor y = pass == 0
                    ? Functional.convBatchNormReluMaxPool2x2(x, w, cb, 1, runningMean, runningVar, gamma, beta, true, 0.1, 1e-5)
                    : Functional.batchNormReluMaxPool2x2(Convolution.conv2d(x, w, cb, 1, 1), runningMean, runningVar, gamma, beta,
                    true, 0.1, 1e-5);
            Tensor loss = Reductions.sum(Pointwise.mul(Pointwise.tanh(y), y), false);
            Tensor[] g1 = Autograd.grad(new Tensor[]{loss}, new Tensor[]{x, w, gamma}, null, true, true, false);
            Tensor s2 = Pointwise.add(Reductions.sum(Pointwise.mul(g1[0], g1[0]), false),
                    Reductions.sum(Pointwise.mul(g1[1], Pointwise.tanh(g1[1])), false));
            Tensor[] g2 = Autograd.grad(new Tensor[]{s2}, new Tensor[]{x, w, cb, gamma, beta}, null, true, true, true);
            Tensor s3 = Reductions.sum(Pointwise.mul(g2[1], Pointwise.tanh(w)), false);
            Tensor[] g3 = Autograd.grad(new Tensor[]{s3}, new Tensor[]{x, w}, null, false, false, true);
            java.util.stream.DoubleStream all = java.util.stream.DoubleStream.of();
            for (Tensor t : new Tensor[]{y, runningMean, runningVar, g1[2], g2[0], g2[1], g2[3], g3[0], g3[1]}) {
                all = java.util.stream.DoubleStream.concat(all, java.util.Arrays.stream(t.toDoubleArray()));
            }
            out[pass] = all.toArray();
        }
        assertArrayEquals(out[1], out[0], 1e-9);
    }

    /** f's value and its gradients for the inputs, weighted by a fixed random output gradient. */
    static Tensor[] valueAndGrads(Function<Tensor[], Tensor> f, Tensor... in) {
        Tensor[] x = new Tensor[in.length];
        for (int i = 0; i < in.length; i++) x[i] = Views.clone(in[i]).requiresGrad(true);
        Tensor y = f.apply(x);
        Tensor w = Tensor.randn(new Rng(3), 1.0, y.dtype(), y.shape()).to(y.backend());
        Tensor[] g = Autograd.grad(new Tensor[]{y}, x, new Tensor[]{w}, false, false, true);
        Tensor[] result = new Tensor[g.length + 1];
        result[0] = y;
        System.arraycopy(g, 0, result, 1, g.length);
        return result;
    }

    /** Value and gradients (weighted by a fixed random output gradient) of f on the fused and the composite path. */
    static void fusedMatchesComposite(String what, Function<Tensor[], Tensor> f, double tol, Tensor... in) {
        Tensor[][] results = new Tensor[2][];
        for (int pass = 0; pass < 2; pass++) {
            Tensor[] x = new Tensor[in.length];
            for (int i = 0; i < in.length; i++) x[i] = Views.clone(in[i]).requiresGrad(true);
            Tensor y;
            if (pass == 0) {
                y = f.apply(x);
            } else {
                try (Fusion.Scope ignored = Fusion.disabled()) {
                    y = f.apply(x);
                }
            }
            Tensor w = Tensor.randn(new Rng(3), 1.0, y.dtype(), y.shape()).to(y.backend());
            Tensor[] g;
            if (pass == 0) {
                g = Autograd.grad(new Tensor[]{y}, x, new Tensor[]{w}, false, false, true);
            } else {
                try (Fusion.Scope ignored = Fusion.disabled()) {
                    g = Autograd.grad(new Tensor[]{y}, x, new Tensor[]{w}, false, false, true);
                }
            }
            results[pass] = new Tensor[g.length + 1];
            results[pass][0] = y;
            System.arraycopy(g, 0, results[pass], 1, g.length);
        }
        for (int i = 0; i < results[0].length; i++) {
            double[] a = results[0][i].toDoubleArray(), b = results[1][i].toDoubleArray();
            assertEquals(b.length, a.length);
            for (int j = 0; j < a.length; j++) {
                if (Double.isNaN(b[j])) {
                    assertTrue(Double.isNaN(a[j]), what + " output " + i + " element " + j);
                    continue;
                }
                assertEquals(b[j], a[j], tol * (1 + Math.abs(b[j])), what + " (" + (i == 0 ? "value" : "gradient of input " + (i - 1))
                        + ") element " + j);
            }
        }
    }

    @Test
    void fusedMatchesCompositeOnCpuAwkwardShapes() {
        Rng rng = new Rng(11);
        DType f = DType.FLOAT32;
        for (int[] rc : new int[][]{{1, 1}, {1, 17}, {3, 16}, {5, 33}, {7, 100}, {2, 257}, {4, 8}}) {
            int r = rc[0], c = rc[1];
            fusedMatchesComposite("softmax " + r + "x" + c, x -> Functional.softmax(x[0], -1), 1e-5, randn(rng, f, CPU, r, c));
            fusedMatchesComposite("logSoftmax " + r + "x" + c, x -> Functional.logSoftmax(x[0], -1), 1e-5, randn(rng, f, CPU, r, c));
            fusedMatchesComposite("layerNorm " + r + "x" + c, x -> Functional.layerNorm(x[0], new int[]{c}, x[1], x[2], 1e-5), 2e-4,
                    randn(rng, f, CPU, r, c), randn(rng, f, CPU, c), randn(rng, f, CPU, c));
            int[] t = new int[r];
            for (int i = 0; i < r; i++) t[i] = i == 1 ? -100 : (i * 7) % c;
            Tensor targets = ints(CPU, t);
            fusedMatchesComposite("crossEntropy " + r + "x" + c, x -> Functional.crossEntropy(x[0], targets, -100,
                    Functional.Reduction.MEAN), 1e-5, randn(rng, f, CPU, r, c));
            fusedMatchesComposite("gelu " + r + "x" + c, x -> Pointwise.gelu(x[0]), 1e-5, randn(rng, f, CPU, r, c));
            fusedMatchesComposite("relu " + r + "x" + c, x -> Pointwise.relu(x[0]), 0.0, randn(rng, f, CPU, r, c));
        }
        // batch norm per channel of [N, C, H, W]: spatial sizes below, at and across the vector width
        for (int[] sh : new int[][]{{2, 1, 1, 1}, {3, 2, 1, 1}, {2, 3, 3, 3}, {5, 4, 4, 4}, {2, 64, 7, 7}, {3, 5, 17, 3}, {7, 3}}) {
            for (boolean affine : new boolean[]{true, false}) {
                int ch = sh[1];
                fusedMatchesComposite("batchNorm " + java.util.Arrays.toString(sh) + " affine=" + affine,
                        x -> Functional.batchNorm(x[0], null, null, affine ? x[1] : null, affine ? x[2] : null, true, 0.1, 1e-5),
                        2e-4, affine ? new Tensor[]{randn(rng, f, CPU, sh), randn(rng, f, CPU, ch), randn(rng, f, CPU, ch)}
                                : new Tensor[]{randn(rng, f, CPU, sh)});
            }
        }
        // batch norm + ReLU in one kernel against relu(batchNorm) composed: the same float32 values
        // and gradients (the fused kernel rectifies and masks the same numbers in the same order)
        for (Backend backend : new Backend[]{CPU, CpuBackend.create(2, false), REF}) {
            for (int[] sh : new int[][]{{2, 1, 1, 1}, {3, 2, 1, 1}, {5, 4, 4, 4}, {2, 64, 7, 7}, {3, 5, 17, 3}, {7, 3}}) {
                for (boolean affine : new boolean[]{true, false}) {
                    int ch = sh[1];
                    Tensor[] in = affine ? new Tensor[]{randn(rng, f, backend, sh), randn(rng, f, backend, ch), randn(rng, f, backend, ch)}
                            : new Tensor[]{randn(rng, f, backend, sh)};
                    String what = "batchNormRelu " + java.util.Arrays.toString(sh) + " affine=" + affine + " on " + backend.name();
                    fusedMatchesComposite(what, x -> Functional.batchNormRelu(x[0], null, null, affine ? x[1] : null,
                            affine ? x[2] : null, true, 0.1, 1e-5), 2e-4, in);
                    Tensor[] fusedResult = valueAndGrads(x -> Functional.batchNormRelu(x[0], null, null, affine ? x[1] : null,
                            affine ? x[2] : null, true, 0.1, 1e-5), in);
                    Tensor[] composedResult = valueAndGrads(x -> Pointwise.relu(Functional.batchNorm(x[0], null, null,
                            affine ? x[1] : null, affine ? x[2] : null, true, 0.1, 1e-5)), in);
                    for (int i = 0; i < fusedResult.length; i++) {
                        assertArrayEquals(composedResult[i].toDoubleArray(), fusedResult[i].toDoubleArray(), 0.0, what + " result " + i);
                    }
                }
            }
        }
        // batch norm + ReLU + 2x2 max pooling in one kernel against the three ops composed: the same
        // float32 values, positions and gradients; odd sizes (the last row and column are not pooled)
        for (Backend backend : new Backend[]{CPU, CpuBackend.create(2, false), REF}) {
            for (int[] sh : new int[][]{{2, 1, 2, 2}, {3, 2, 7, 7}, {5, 4, 5, 3}, {4, 64, 14, 14}, {2, 3, 28, 28}}) {
                for (boolean affine : new boolean[]{true, false}) {
                    int ch = sh[1];
                    Tensor[] in = affine ? new Tensor[]{randn(rng, f, backend, sh), randn(rng, f, backend, ch), randn(rng, f, backend, ch)}
                            : new Tensor[]{randn(rng, f, backend, sh)};
                    String what = "batchNormReluMaxPool2x2 " + java.util.Arrays.toString(sh) + " affine=" + affine + " on " + backend.name();
                    Tensor[] fusedResult = valueAndGrads(x -> Functional.batchNormReluMaxPool2x2(x[0], null, null,
                            affine ? x[1] : null, affine ? x[2] : null, true, 0.1, 1e-5), in);
                    Tensor[] composedResult = valueAndGrads(x -> Convolution.maxPool2d(Pointwise.relu(Functional.batchNorm(x[0],
                            null, null, affine ? x[1] : null, affine ? x[2] : null, true, 0.1, 1e-5)), 2, 2, 0), in);
                    for (int i = 0; i < fusedResult.length; i++) {
                        assertArrayEquals(composedResult[i].toDoubleArray(), fusedResult[i].toDoubleArray(), 0.0, what + " result " + i);
                    }
                    fusedMatchesComposite(what, x -> Functional.batchNormReluMaxPool2x2(x[0], null, null, affine ? x[1] : null,
                            affine ? x[2] : null, true, 0.1, 1e-5), 2e-4, in);
                }
            }
        }
        // a permuted (non-contiguous) input, and values far from zero (the variance must not cancel)
        fusedMatchesComposite("batchNorm permuted", x -> Functional.batchNorm(x[0].permute(1, 0, 2, 3), null, null, x[1], x[2],
                true, 0.1, 1e-5), 2e-4, randn(rng, f, CPU, 3, 4, 5, 6), randn(rng, f, CPU, 3), randn(rng, f, CPU, 3));
        fusedMatchesComposite("batchNorm offset 100", x -> Functional.batchNorm(x[0].add(100.0), null, null, null, null,
                true, 0.1, 1e-5), 5e-3, randn(rng, f, CPU, 4, 3, 5, 5));
        // conv2d: the image-by-image op against im2col + matmul, with bias, strides and padding
        for (int[] t : new int[][]{{3, 1, 9, 9, 5, 3, 1, 1}, {2, 3, 7, 5, 4, 3, 2, 0}, {4, 2, 6, 6, 33, 1, 1, 0},
                {4, 16, 8, 8, 12, 3, 1, 1}, {3, 8, 3, 3, 9, 3, 1, 1}}) {
            fusedMatchesComposite("conv2d " + java.util.Arrays.toString(t),
                    x -> x[0].conv2d(x[1], x[2], t[6], t[7]), 1e-4,
                    randn(rng, f, CPU, t[0], t[1], t[2], t[3]), randn(rng, f, CPU, t[4], t[1], t[5], t[5]), randn(rng, f, CPU, t[4]));
        }
        // non-contiguous input (a transposed view)
        fusedMatchesComposite("softmax transposed", x -> Functional.softmax(x[0].mT(), -1), 1e-5, randn(rng, f, CPU, 9, 5));
        for (int[] s : new int[][]{{1, 1, 1, 1, 1}, {2, 3, 5, 5, 16}, {1, 2, 7, 7, 17}, {2, 1, 3, 9, 64}, {1, 12, 1, 13, 64}}) {
            int b = s[0], h = s[1], t = s[2], keys = s[3], d = s[4];
            for (boolean causal : new boolean[]{true, false}) {
                fusedMatchesComposite("attention " + java.util.Arrays.toString(s) + " causal=" + causal,
                        x -> Functional.scaledDotProductAttention(x[0], x[1], x[2], causal), 1e-4,
                        randn(rng, f, CPU, b, h, t, d), randn(rng, f, CPU, b, h, keys, d), randn(rng, f, CPU, b, h, keys, d));
            }
        }
        // q, k, v as strided views of one qkv tensor, as GPT-2 makes them
        int b = 2, t = 5, nh = 3, hd = 17, c = nh * hd;
        fusedMatchesComposite("attention from a qkv view", x -> {
            Tensor qkv = x[0];
            Tensor q = qkv.narrow(2, 0, c).reshape(b, t, nh, hd).permute(0, 2, 1, 3);
            Tensor k = qkv.narrow(2, c, c).reshape(b, t, nh, hd).permute(0, 2, 1, 3);
            Tensor v = qkv.narrow(2, 2 * c, c).reshape(b, t, nh, hd).permute(0, 2, 1, 3);
            return Functional.scaledDotProductAttention(q, k, v, true).permute(0, 2, 1, 3).reshape(b, t, c);
        }, 1e-4, randn(rng, f, CPU, b, t, 3 * c));
    }

    @Test
    void secondDerivativesOnCpuMatchTheComposite() {
        // createGraph runs the differentiable backward rules; compare a gradient-of-gradient
        Rng rng = new Rng(5);
        Tensor x0 = randn(rng, DType.FLOAT32, CPU, 3, 9);
        Tensor w0 = randn(rng, DType.FLOAT32, CPU, 9);
        double[][] out = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            try (Fusion.Scope ignored = pass == 1 ? Fusion.disabled() : () -> { }) {
                Tensor x = Views.clone(x0).requiresGrad(true), w = Views.clone(w0).requiresGrad(true);
                Tensor y = Functional.layerNorm(x, new int[]{9}, w, null, 1e-5);
                Tensor loss = Reductions.sum(Pointwise.mul(Functional.softmax(y, -1), y), false);
                Tensor gx = Autograd.grad(loss, new Tensor[]{x}, true)[0];
                Tensor gg = Autograd.grad(Reductions.sum(Pointwise.mul(gx, gx), false), new Tensor[]{x, w}, false)[1];
                out[pass] = gg.toDoubleArray();
            }
        }
        assertArrayEquals(out[1], out[0], 1e-3);
    }

    /** The cpu backend's channel kernels against the reference backend's composite defaults, FLOAT32, awkward shapes. */
    @Test
    void channelKernelsOnCpuMatchTheReference() {
        Rng rng = new Rng(11);
        for (int[] sh : new int[][]{{1, 1}, {1, 1, 1}, {7, 3}, {2, 5, 17}, {3, 4, 5, 7}, {2, 64, 7, 7}, {1, 3, 1031}}) {
            int ch = sh[1];
            Tensor u = randn(rng, DType.FLOAT32, REF, sh), v = randn(rng, DType.FLOAT32, REF, sh);
            Tensor a = randn(rng, DType.FLOAT32, REF, ch), b = randn(rng, DType.FLOAT32, REF, ch), shift = randn(rng, DType.FLOAT32, REF, ch);
            String where = java.util.Arrays.toString(sh);
            assertArrayEquals(ChannelOps.channelSums(u, null).toDoubleArray(),
                    ChannelOps.channelSums(u.to(CPU), null).toDoubleArray(), 1e-4 * sh[0] * u.numel() / ch, "sums " + where);
            assertArrayEquals(ChannelOps.channelSums(u, v).toDoubleArray(),
                    ChannelOps.channelSums(u.to(CPU), v.to(CPU)).toDoubleArray(), 1e-4 * u.numel() / ch, "products " + where);
            assertArrayEquals(ChannelOps.channelCombine(u, a, v, b, shift).toDoubleArray(),
                    ChannelOps.channelCombine(u.to(CPU), a.to(CPU), v.to(CPU), b.to(CPU), shift.to(CPU)).toDoubleArray(), 1e-5, where);
            assertArrayEquals(ChannelOps.channelCombine(u, null, null, null, shift).toDoubleArray(),
                    ChannelOps.channelCombine(u.to(CPU), null, null, null, shift.to(CPU)).toDoubleArray(), 1e-6, where);
        }
        // a permuted (non-contiguous) u: the op makes it contiguous first
        Tensor p = randn(rng, DType.FLOAT32, CPU, 4, 3, 5).permute(1, 0, 2);
        assertArrayEquals(ChannelOps.channelSums(p.to(REF), null).toDoubleArray(), ChannelOps.channelSums(p, null).toDoubleArray(), 1e-4);
        // wrong shapes name the op and the shapes
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChannelOps.channelCombine(randn(rng, DType.FLOAT32, CPU, 2, 3), randn(rng, DType.FLOAT32, CPU, 4), null, null, null));
        assertTrue(e.getMessage().contains("channelCombine") && e.getMessage().contains("[4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> ChannelOps.channelSums(randn(rng, DType.FLOAT32, CPU, 2, 3), randn(rng, DType.FLOAT32, CPU, 3, 2)));
        assertTrue(e.getMessage().contains("channelSums") && e.getMessage().contains("[3, 2]"), e.getMessage());
    }

    /**
     * The cpu backend's convolution kernels, vector and scalar, against the reference backend (im2col
     * and a batched product), FLOAT32. Image by image: one input channel (the weight gradient's
     * transposed product), non-square and 1x1 kernels, strides 1 to 3, padding up to 2, output
     * channels past the register tile, more groups of images than weight-gradient chunks (both
     * product orientations), outputs small enough that images are grouped side by side, a single
     * image (the fallback) and an empty batch (the weight gradient is zero). Shifted windows
     * (stride 1, K from 32 to 1152): channel counts that are not multiples of either tile, rows
     * wider than a tile of positions, a 3x5 window without padding, padding kh-1 (the flipped
     * input gradient unpadded) and kh (the input gradient falls back), 1x1 windows, K at the limit
     * and just past it. Winograd F(2x2, 3x3) (3x3, stride 1; forward and input gradient from 48
     * channels for batches that fill their groups of images, weight gradient from 16 channels for
     * outputs of 8x8 and more): whole and partial groups, odd sizes, 3x3 outputs, padding 0 to 2.
     */
    @Test
    void convolutionKernelsOnCpuMatchTheReference() {
        Rng rng = new Rng(13);
        // n, c, h, w, o, kh, kw, stride, pad
        int[][] cases = {{2, 1, 28, 28, 8, 3, 3, 1, 1}, {3, 5, 7, 7, 4, 3, 3, 1, 1}, {5, 3, 11, 13, 7, 5, 3, 2, 2},
                {17, 2, 5, 5, 3, 1, 1, 1, 0}, {4, 3, 9, 9, 33, 3, 3, 3, 1}, {1, 2, 6, 6, 3, 3, 3, 1, 1},
                {2, 64, 7, 7, 64, 3, 3, 1, 1}, {3, 2, 4, 4, 5, 4, 4, 1, 2}, {2, 1, 1, 1, 1, 1, 1, 1, 0},
                {20, 2, 5, 5, 3, 3, 3, 1, 1}, {40, 1, 10, 10, 64, 3, 3, 1, 1}, {200, 3, 4, 4, 5, 3, 3, 1, 1}, {0, 2, 5, 5, 3, 3, 3, 1, 1},
                {4, 8, 9, 40, 13, 3, 3, 1, 1}, {3, 9, 6, 7, 16, 3, 5, 1, 0}, {3, 10, 5, 5, 8, 3, 3, 1, 2},
                {2, 9, 6, 6, 9, 2, 2, 1, 2}, {5, 40, 4, 4, 8, 1, 1, 1, 0}, {3, 128, 5, 5, 8, 3, 3, 1, 1},
                {2, 130, 4, 4, 8, 3, 3, 1, 1}, {33, 16, 8, 8, 70, 3, 3, 1, 1},
                // Winograd F(2x2, 3x3): a full group of images, a last group part full, odd output
                // sizes (tiles past the edge), output channels past the register tile, padding 0 to 2
                {16, 48, 6, 9, 50, 3, 3, 1, 1}, {27, 49, 7, 7, 48, 3, 3, 1, 1}, {13, 48, 8, 6, 51, 3, 3, 1, 2},
                {16, 56, 9, 9, 48, 3, 3, 1, 0}, {40, 48, 4, 5, 48, 3, 3, 1, 1},
                // its weight gradient from 16 channels (outputs 8x8 and larger; any batch): odd width, five images
                {5, 16, 10, 9, 18, 3, 3, 1, 1},
                // 3x3 and 3x5 outputs (Conv-4's last layer): a single row of tiles, half of it past the edge
                {16, 48, 3, 3, 48, 3, 3, 1, 1}, {14, 50, 3, 5, 49, 3, 3, 1, 1}};
        for (CpuBackend cpu : new CpuBackend[]{CPU, CpuBackend.create(2, false)})
        for (int[] t : cases) {
            int n = t[0], c = t[1], h = t[2], w = t[3], o = t[4], kh = t[5], kw = t[6], stride = t[7], pad = t[8];
            int oh = Convolution.outSize("test", h, kh, stride, pad), ow = Convolution.outSize("test", w, kw, stride, pad);
            int[] xShape = {n, c, h, w}, wShape = {o, c, kh, kw}, gShape = {n, o, oh, ow};
            Tensor x = randn(rng, DType.FLOAT32, REF, xShape), weight = randn(rng, DType.FLOAT32, REF, wShape);
            Tensor g = randn(rng, DType.FLOAT32, REF, gShape), bias = randn(rng, DType.FLOAT32, REF, o);
            String where = java.util.Arrays.toString(t) + " on " + cpu.describe();
            double tol = 1e-5 * Math.sqrt((double) c * kh * kw * n * oh * ow);
            assertArrayEquals(Convolution.convolve(x, weight, bias, gShape, stride, pad).toDoubleArray(),
                    Convolution.convolve(x.to(cpu), weight.to(cpu), bias.to(cpu), gShape, stride, pad).toDoubleArray(), tol, "conv2d " + where);
            assertArrayEquals(Convolution.convolveBackwardInput(g, weight, xShape, stride, pad).toDoubleArray(),
                    Convolution.convolveBackwardInput(g.to(cpu), weight.to(cpu), xShape, stride, pad).toDoubleArray(), tol,
                    "conv2dBackwardInput " + where);
            assertArrayEquals(Convolution.convolveBackwardWeight(x, g, wShape, stride, pad).toDoubleArray(),
                    Convolution.convolveBackwardWeight(x.to(cpu), g.to(cpu), wShape, stride, pad).toDoubleArray(), tol,
                    "conv2dBackwardWeight " + where);
        }
        // an empty batch contributes nothing to the weight gradient
        for (double v : Convolution.convolveBackwardWeight(Tensor.zeros(CPU, DType.FLOAT32, 0, 2, 5, 5),
                Tensor.zeros(CPU, DType.FLOAT32, 0, 3, 5, 5), new int[]{3, 2, 3, 3}, 1, 1).toDoubleArray()) {
            assertEquals(0.0, v);
        }
        // non-contiguous operands (the op makes them contiguous first)
        Tensor xp = randn(rng, DType.FLOAT32, CPU, 3, 4, 6, 5).permute(1, 0, 2, 3);
        Tensor wp = randn(rng, DType.FLOAT32, CPU, 2, 3, 3, 3).mT();
        assertArrayEquals(Convolution.convolve(xp.to(REF), wp.to(REF), null, new int[]{4, 2, 6, 5}, 1, 1).toDoubleArray(),
                Convolution.convolve(xp, wp, null, new int[]{4, 2, 6, 5}, 1, 1).toDoubleArray(), 1e-4);
    }

    /**
     * The weight gradient sums images in chunks fixed by N, so any thread count gives the same bits:
     * image by image (3 channels), through shifted windows (9 channels) and Winograd (48 channels).
     */
    @ParameterizedTest
    @ValueSource(ints = {3, 9, 48})
    void convolutionWeightGradientDoesNotDependOnTheThreadCount(int channels) {
        Rng rng = new Rng(14);
        int n = channels == 48 ? 40 : 37; // 40: three groups of images that Winograd's forward takes
        Tensor x = randn(rng, DType.FLOAT32, REF, n, channels, 9, 9), g = randn(rng, DType.FLOAT32, REF, n, channels + 1, 9, 9);
        Tensor weight = randn(rng, DType.FLOAT32, REF, channels + 1, channels, 3, 3);
        Tensor bias = randn(rng, DType.FLOAT32, REF, channels + 1);
        double[][] gw = new double[3][], gx = new double[3][], y = new double[3][], gwb = new double[3][], gb = new double[3][];
        int[] threads = {1, 2, 5};
        for (int i = 0; i < threads.length; i++) {
            CpuBackend cpu = CpuBackend.create(threads[i], true);
            gw[i] = Convolution.convolveBackwardWeight(x.to(cpu), g.to(cpu), weight.shape(), 1, 1).toDoubleArray();
            gx[i] = Convolution.convolveBackwardInput(g.to(cpu), weight.to(cpu), x.shape(), 1, 1).toDoubleArray();
            y[i] = Convolution.convolve(x.to(cpu), weight.to(cpu), null, g.shape(), 1, 1).toDoubleArray();
            // the weight and bias gradients of one backward (the bias summed with the weight gradient's reading of g)
            Tensor w = weight.to(cpu).requiresGrad(true), b = bias.to(cpu).requiresGrad(true);
            Tensor[] wb = Autograd.grad(new Tensor[]{Convolution.convolve(x.to(cpu), w, b, g.shape(), 1, 1)}, new Tensor[]{w, b},
                    new Tensor[]{g.to(cpu)}, false, false, true);
            gwb[i] = wb[0].toDoubleArray();
            gb[i] = wb[1].toDoubleArray();
        }
        assertArrayEquals(gw[0], gwb[0], 0.0, "weight gradient with and without the bias's");
        double[] sums = ChannelOps.channelSums(g.reshape(n, channels + 1, 81), null).toDoubleArray();
        assertArrayEquals(sums, gb[0], 1e-4, "bias gradient against the reference's channel sums");
        for (int i = 1; i < threads.length; i++) {
            assertArrayEquals(gb[0], gb[i], 0.0, "bias gradient with " + threads[i] + " threads");
            assertArrayEquals(gw[0], gw[i], 0.0, "weight gradient with " + threads[i] + " threads");
            assertArrayEquals(gx[0], gx[i], 0.0, "input gradient with " + threads[i] + " threads");
            assertArrayEquals(y[0], y[i], 0.0, "conv2d with " + threads[i] + " threads");
        }
    }

    /**
     * Third order through the createGraph backward of batchNorm (fused channel ops), batchNormRelu
     * and batchNormReluMaxPool2x2, each against the same function of composite ops.
     */
    @ParameterizedTest
    @ValueSource(strings = {"batchNorm", "batchNormRelu", "batchNormReluMaxPool2x2"})
    void batchNormThirdDerivativesOnCpuMatchTheComposite(String op) {
        Rng rng = new Rng(12);
        Tensor x0 = randn(rng, DType.FLOAT64, CPU, 5, 3, 4, 5);
        Tensor w0 = randn(rng, DType.FLOAT64, CPU, 3), b0 = randn(rng, DType.FLOAT64, CPU, 3);
        double[][] out = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            try (Fusion.Scope ignored = pass == 1 ? Fusion.disabled() : () -> { }) {
                Tensor x = Views.clone(x0).requiresGrad(true), w = Views.clone(w0).requiresGrad(true);
                Tensor b = Views.clone(b0).requiresGrad(true);
                Tensor y = switch (op) {
                    case "batchNorm" -> Functional.batchNorm(x, null, null, w, b, true, 0.1, 1e-5);
                    case "batchNormRelu" -> pass == 0 ? Functional.batchNormRelu(x, null, null, w, b, true, 0.1, 1e-5)
                            : Pointwise.relu(Functional.batchNorm(x, null, null, w, b, true, 0.1, 1e-5));
                    default -> pass == 0 ? Functional.batchNormReluMaxPool2x2(x, null, null, w, b, true, 0.1, 1e-5)
                            : Convolution.maxPool2d(Pointwise.relu(Functional.batchNorm(x, null, null, w, b, true, 0.1, 1e-5)), 2, 2, 0);
                };
                Tensor loss = Reductions.sum(Pointwise.mul(Pointwise.tanh(y), y), false);
                Tensor[] g1 = Autograd.grad(new Tensor[]{loss}, new Tensor[]{x, w}, null, true, true, false);
                Tensor s2 = Pointwise.add(Reductions.sum(Pointwise.mul(g1[0], g1[0]), false),
                        Reductions.sum(Pointwise.mul(g1[1], Pointwise.tanh(g1[1])), false));
                Tensor[] g2 = Autograd.grad(new Tensor[]{s2}, new Tensor[]{x, w}, null, true, true, false);
                Tensor s3 = Reductions.sum(Pointwise.mul(g2[0], Pointwise.tanh(x)), false);
                Tensor[] g3 = Autograd.grad(new Tensor[]{s3}, new Tensor[]{x, w, b}, null, false, false, true);
                out[pass] = java.util.stream.DoubleStream.concat(java.util.Arrays.stream(g3[0].toDoubleArray()),
                        java.util.Arrays.stream(g3[1].toDoubleArray())).toArray();
            }
        }
        assertArrayEquals(out[1], out[0], 1e-9, op);
    }

    @Test
    void batchNormRunningStatisticsAgreeBetweenFusedAndComposite() {
        Rng rng = new Rng(9);
        Tensor x = randn(rng, DType.FLOAT32, CPU, 6, 3, 5, 5).mul(2.0).add(0.5);
        double[][] stats = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            Tensor mean = Tensor.zeros(DType.FLOAT32, 3).to(CPU), var = Tensor.ones(DType.FLOAT32, 3).to(CPU);
            try (Fusion.Scope ignored = pass == 1 ? Fusion.disabled() : () -> { }) {
                Functional.batchNorm(x, mean, var, null, null, true, 0.3, 1e-5);
                Functional.batchNorm(x.mul(0.5), mean, var, null, null, true, 0.3, 1e-5);
            }
            double[] m = mean.toDoubleArray(), v = var.toDoubleArray();
            stats[pass] = new double[]{m[0], m[1], m[2], v[0], v[1], v[2]};
        }
        assertArrayEquals(stats[1], stats[0], 1e-5);
    }

    @Test
    void batchNormSecondDerivativesOnCpuMatchTheComposite() {
        Rng rng = new Rng(6);
        Tensor x0 = randn(rng, DType.FLOAT32, CPU, 4, 3, 2, 2);
        Tensor w0 = randn(rng, DType.FLOAT32, CPU, 3);
        double[][] out = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            try (Fusion.Scope ignored = pass == 1 ? Fusion.disabled() : () -> { }) {
                Tensor x = Views.clone(x0).requiresGrad(true), w = Views.clone(w0).requiresGrad(true);
                Tensor y = Functional.batchNorm(x, null, null, w, null, true, 0.1, 1e-5);
                Tensor loss = Reductions.sum(Pointwise.mul(Pointwise.tanh(y), y), false);
                Tensor gx = Autograd.grad(loss, new Tensor[]{x}, true)[0];
                Tensor gg = Autograd.grad(Reductions.sum(Pointwise.mul(gx, gx), false), new Tensor[]{x, w}, false)[1];
                out[pass] = gg.toDoubleArray();
            }
        }
        assertArrayEquals(out[1], out[0], 1e-3);
    }
}
