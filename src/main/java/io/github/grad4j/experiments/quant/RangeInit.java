package io.github.grad4j.experiments.quant;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

/**
 * Initial quantization ranges from data, per tensor ({@link QuantConfig#PER_TENSOR}) or per channel
 * along any axis. Results are detached tensors of the input's dtype, shaped to broadcast against
 * the input (scalars per tensor, [1, .., C, .., 1] per channel).
 *
 * <p>A channel whose values are all equal would give a zero scale; its range is widened by a tiny
 * amount so that s &gt; 0 and the quantizer stays finite.
 */
public final class RangeInit {
    /** Shrink factors tried by {@link #mseOptimal(Tensor, int, int)}: 1/100, 2/100, ..., 1. */
    public static final int DEFAULT_MSE_GRID = 100;

    private RangeInit() {
    }

    /** The data's own minimum and maximum (a constant channel widened, see the class comment). */
    public static Range minMax(Tensor x, int channelAxis) {
        Range r = dataExtremes(x, channelAxis);
        return build(x, channelAxis, r.minValues(), r.maxValues(), true);
    }

    /** The data's exact minimum and maximum, never widened (what beta/gamma multiplies). */
    public static Range dataExtremes(Tensor x, int channelAxis) {
        double[][] ch = channelValues(x, channelAxis);
        double[] lo = new double[ch.length], hi = new double[ch.length];
        for (int c = 0; c < ch.length; c++) {
            lo[c] = Double.POSITIVE_INFINITY;
            hi[c] = Double.NEGATIVE_INFINITY;
            for (double v : ch[c]) {
                lo[c] = Math.min(lo[c], v);
                hi[c] = Math.max(hi[c], v);
            }
        }
        return build(x, channelAxis, lo, hi, false);
    }

    /**
     * The (100 - percent)-th and percent-th percentiles (linear interpolation between order
     * statistics), e.g. percent = 99.9 clips the 0.1% most extreme values at each end.
     */
    public static Range percentile(Tensor x, int channelAxis, double percent) {
        if (!(percent > 50 && percent <= 100)) {
            throw new IllegalArgumentException("percent = " + percent + " is out of range (50, 100]");
        }
        double[][] ch = channelValues(x, channelAxis);
        double[] lo = new double[ch.length], hi = new double[ch.length];
        for (int c = 0; c < ch.length; c++) {
            double[] sorted = ch[c].clone();
            Arrays.sort(sorted);
            lo[c] = quantile(sorted, 1 - percent / 100);
            hi[c] = quantile(sorted, percent / 100);
        }
        return build(x, channelAxis, lo, hi, true);
    }

    /** MSE-optimal range with the default grid of {@value #DEFAULT_MSE_GRID} shrink factors. */
    public static Range mseOptimal(Tensor x, int channelAxis, int bits) {
        return mseOptimal(x, channelAxis, bits, DEFAULT_MSE_GRID);
    }

    /**
     * The range alpha * [min, max] minimizing ||x - Q(x)||^2 per channel, over alpha = k/gridSize,
     * k = 1..gridSize (a grid search: the error is piecewise smooth with many local minima, so a
     * gradient method would not do better cheaply). Ties keep the smaller alpha.
     */
    public static Range mseOptimal(Tensor x, int channelAxis, int bits, int gridSize) {
        int levels = new QuantConfig(bits, QuantConfig.PER_TENSOR, ZeroPointRounding.STE, false).levels();
        if (gridSize < 1) throw new IllegalArgumentException("gridSize = " + gridSize + " must be at least 1");
        Range full = minMax(x, channelAxis);
        double[] lo = full.minValues(), hi = full.maxValues();
        double[][] ch = channelValues(x, channelAxis);
        for (int c = 0; c < ch.length; c++) {
            double bestAlpha = 1, bestError = Double.POSITIVE_INFINITY;
            for (int k = 1; k <= gridSize; k++) {
                double alpha = (double) k / gridSize;
                double min = alpha * lo[c], max = alpha * hi[c];
                double s = (max - min) / levels;
                double zeroPoint = Math.rint(-min / s);
                double error = 0;
                for (double v : ch[c]) {
                    double d = v - FakeQuant.fakeQuantize(v, s, zeroPoint, levels);
                    error += d * d;
                }
                if (error < bestError) {
                    bestError = error;
                    bestAlpha = alpha;
                }
            }
            lo[c] *= bestAlpha;
            hi[c] *= bestAlpha;
        }
        return build(x, channelAxis, lo, hi, true);
    }

    /** The range multiplied by {@code factor} at both ends (e.g. 0.6 for a deliberately narrow start). */
    public static Range scaled(Range r, double factor) {
        return new Range(r.min().detach().mul(factor), r.max().detach().mul(factor));
    }

    /** A range of the given values, shaped for an input of {@code inputShape} (no widening). */
    public static Range of(double[] min, double[] max, int[] inputShape, int channelAxis, DType dtype) {
        int[] shape = paramShape(inputShape, channelAxis);
        return new Range(Tensor.of(min, dtype, shape), Tensor.of(max, dtype, shape));
    }

    /** [] per tensor; the input's rank with 1 everywhere but the channel axis per channel. */
    public static int[] paramShape(int[] inputShape, int channelAxis) {
        if (channelAxis == QuantConfig.PER_TENSOR) return new int[0];
        int a = normalizeAxis(channelAxis, inputShape);
        int[] shape = new int[inputShape.length];
        Arrays.fill(shape, 1);
        shape[a] = inputShape[a];
        return shape;
    }

    private static int normalizeAxis(int channelAxis, int[] inputShape) {
        int a = channelAxis < 0 ? channelAxis + inputShape.length : channelAxis;
        if (a < 0 || a >= inputShape.length) {
            throw new IllegalArgumentException("channelAxis = " + channelAxis + " is out of range for an input of shape "
                    + Shape.str(inputShape));
        }
        return a;
    }

    /** The input's values grouped by channel (one group per tensor when per tensor). */
    static double[][] channelValues(Tensor x, int channelAxis) {
        double[] v = x.toDoubleArray();
        if (v.length == 0) throw new IllegalArgumentException("range init: the input " + Shape.str(x.shape()) + " is empty");
        if (channelAxis == QuantConfig.PER_TENSOR) return new double[][]{v};
        int[] shape = x.shape();
        int a = normalizeAxis(channelAxis, shape);
        int channels = shape[a];
        int inner = 1;
        for (int d = a + 1; d < shape.length; d++) inner *= shape[d];
        double[][] out = new double[channels][v.length / channels];
        int[] fill = new int[channels];
        for (int i = 0; i < v.length; i++) {
            int c = (i / inner) % channels;
            out[c][fill[c]++] = v[i];
        }
        return out;
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        if (i >= sorted.length - 1) return sorted[sorted.length - 1];
        double frac = pos - i;
        return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
    }

    private static Range build(Tensor x, int channelAxis, double[] lo, double[] hi, boolean widenDegenerate) {
        if (widenDegenerate) {
            for (int c = 0; c < lo.length; c++) {
                if (!(hi[c] > lo[c])) hi[c] = lo[c] + Math.max(Math.abs(lo[c]), 1.0) * 1e-6;
            }
        }
        return of(lo, hi, x.shape(), channelAxis, x.dtype());
    }
}
