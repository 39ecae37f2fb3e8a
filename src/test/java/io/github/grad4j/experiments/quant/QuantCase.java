package io.github.grad4j.experiments.quant;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/**
 * A random test case: FLOAT64 input (per-channel magnitudes differing by up to two decades), a
 * quantizer of the given parameterization whose range clips both ends, and, independently of the
 * implementation, the per-region gradients of the reference note's table in plain double loops.
 */
final class QuantCase {
    final Parameterization parameterization;
    final QuantConfig config;
    final int levels;
    final int[] shape;
    final int axis;          // normalized channel axis, or -1 per tensor
    final int channels;
    final double[] x;
    final double[] upstream;
    final Tensor input;
    final Tensor upstreamTensor;
    final Quantizer quantizer;
    /** Raw parameter values per channel: [0] = first parameter, [1] = second (registration order). */
    final double[][] params;
    final double[] dataMin;
    final double[] dataMax;

    QuantCase(Parameterization p, int bits, boolean perChannel, int axisChoice, ZeroPointRounding rounding, long seed) {
        Rng rng = new Rng(seed);
        this.parameterization = p;
        this.shape = perChannel ? new int[]{4, 5, 6} : new int[]{5, 8};
        this.axis = perChannel ? Math.floorMod(axisChoice, 3) : -1;
        // a negative axis half of the time, to exercise normalization
        int configAxis = perChannel ? (axisChoice < 0 ? axis - 3 : axis) : QuantConfig.PER_TENSOR;
        this.config = new QuantConfig(bits, configAxis, rounding, false);
        this.levels = config.levels();
        this.channels = perChannel ? shape[axis] : 1;
        int n = shape[0] * shape[1] * (shape.length > 2 ? shape[2] : 1);
        double[] channelScale = new double[channels];
        for (int c = 0; c < channels; c++) channelScale[c] = Math.pow(10, 2 * rng.nextDouble() - 1);
        x = new double[n];
        upstream = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (rng.nextGaussian() + 0.2) * channelScale[channel(i)];
            upstream[i] = rng.nextGaussian();
        }
        dataMin = new double[channels];
        dataMax = new double[channels];
        java.util.Arrays.fill(dataMin, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(dataMax, Double.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            dataMin[channel(i)] = Math.min(dataMin[channel(i)], x[i]);
            dataMax[channel(i)] = Math.max(dataMax[channel(i)], x[i]);
        }
        // ranges that clip both ends: a fraction 0.4..0.9 of the data's extremes
        params = new double[2][channels];
        for (int c = 0; c < channels; c++) {
            double shrinkLow = 0.4 + 0.5 * rng.nextDouble(), shrinkHigh = 0.4 + 0.5 * rng.nextDouble();
            double tMin = shrinkLow * dataMin[c], tMax = shrinkHigh * dataMax[c];
            switch (p) {
                case SCALE_OFFSET -> {
                    double s = (tMax - tMin) / levels;
                    params[0][c] = s;
                    // a non-integer offset, so that e_z = round(z) - z is not 0
                    params[1][c] = -tMin / s + (0.8 * rng.nextDouble() - 0.4);
                }
                case MIN_MAX -> {
                    params[0][c] = tMin;
                    params[1][c] = tMax;
                }
                case BETA_GAMMA -> {
                    params[0][c] = shrinkLow;
                    params[1][c] = shrinkHigh;
                }
                case BETA_GAMMA_SIGMOID -> {
                    params[0][c] = Math.log(shrinkLow / (1 - shrinkLow));
                    params[1][c] = Math.log(shrinkHigh / (1 - shrinkHigh));
                }
            }
        }
        input = Tensor.of(x, DType.FLOAT64, shape);
        upstreamTensor = Tensor.of(upstream, DType.FLOAT64, shape);
        int[] ps = RangeInit.paramShape(shape, config.channelAxis());
        Tensor a = Tensor.of(params[0], DType.FLOAT64, ps), b = Tensor.of(params[1], DType.FLOAT64, ps);
        quantizer = switch (p) {
            case SCALE_OFFSET -> new ScaleOffsetQuantizer(config, a, b);
            case MIN_MAX -> new MinMaxQuantizer(config, new Range(a, b));
            case BETA_GAMMA -> new BetaGammaQuantizer(config, a, b, false);
            case BETA_GAMMA_SIGMOID -> new BetaGammaQuantizer(config, a, b, true);
        };
    }

    int channel(int flatIndex) {
        if (axis < 0) return 0;
        int inner = 1;
        for (int d = axis + 1; d < shape.length; d++) inner *= shape[d];
        return (flatIndex / inner) % shape[axis];
    }

    static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** theta_min, theta_max as the parameterization defines them (before rounding the zero point). */
    double[] thetas(int c) {
        return switch (parameterization) {
            case MIN_MAX -> new double[]{params[0][c], params[1][c]};
            case BETA_GAMMA -> new double[]{params[0][c] * dataMin[c], params[1][c] * dataMax[c]};
            case BETA_GAMMA_SIGMOID -> new double[]{sigmoid(params[0][c]) * dataMin[c], sigmoid(params[1][c]) * dataMax[c]};
            case SCALE_OFFSET -> throw new IllegalStateException("scale/offset has no theta parameters");
        };
    }

    /** {s, z} of channel c, computed as the parameterization's definition says. */
    double[] scaleAndOffset(int c) {
        if (parameterization == Parameterization.SCALE_OFFSET) return new double[]{params[0][c], params[1][c]};
        double[] t = thetas(c);
        double s = (t[1] - t[0]) / levels;
        return new double[]{s, -t[0] / s};
    }

    static final int BELOW = 0, INSIDE = 1, ABOVE = 2;

    int region(int i) {
        double[] sz = scaleAndOffset(channel(i));
        double index = Math.rint(x[i] / sz[0]) + Math.rint(sz[1]);
        return index < 0 ? BELOW : index > levels ? ABOVE : INSIDE;
    }

    /**
     * Expected gradient of sum(upstream * x_hat) w.r.t. each raw parameter, by region:
     * [region][parameter][channel], from the reference note's table (and, for the plain-rounded zero
     * point, the rows documented in {@link ZeroPointRounding}).
     */
    double[][][] expectedByRegion() {
        double[][][] out = new double[3][2][channels];
        boolean ste = config.zeroPointRounding() == ZeroPointRounding.STE;
        int n2 = levels;
        for (int i = 0; i < x.length; i++) {
            int c = channel(i);
            double[] sz = scaleAndOffset(c);
            double s = sz[0], z = sz[1], bigR = Math.rint(z);
            double r = Math.rint(x[i] / s) - x[i] / s;
            double ez = bigR - z;
            int reg = region(i);
            double g = upstream[i];
            if (parameterization == Parameterization.SCALE_OFFSET) {
                double ds = reg == INSIDE ? r : reg == BELOW ? -bigR : n2 - bigR;
                double dz = reg == INSIDE || !ste ? 0 : -s;
                out[reg][0][c] += g * ds;
                out[reg][1][c] += g * dz;
                continue;
            }
            double dMax, dMin;
            if (reg == INSIDE) {
                dMax = r / n2;
                dMin = -r / n2;
            } else if (reg == BELOW) {
                dMax = ste ? -ez / n2 : -bigR / n2;
                dMin = ste ? 1 + ez / n2 : bigR / n2;
            } else {
                dMax = ste ? 1 - ez / n2 : (n2 - bigR) / n2;
                dMin = ste ? ez / n2 : -(n2 - bigR) / n2;
            }
            switch (parameterization) {
                case MIN_MAX -> {
                    out[reg][0][c] += g * dMin;
                    out[reg][1][c] += g * dMax;
                }
                case BETA_GAMMA -> {
                    out[reg][0][c] += g * dMin * dataMin[c];
                    out[reg][1][c] += g * dMax * dataMax[c];
                }
                default -> {
                    double sb = sigmoid(params[0][c]), sg = sigmoid(params[1][c]);
                    out[reg][0][c] += g * dMin * dataMin[c] * sb * (1 - sb);
                    out[reg][1][c] += g * dMax * dataMax[c] * sg * (1 - sg);
                }
            }
        }
        return out;
    }

    /** The raw parameters' tensors of the quantizer, in registration order. */
    Tensor[] parameterTensors() {
        return quantizer.namedParameters().values().toArray(new Tensor[0]);
    }

    String[] parameterNames() {
        return quantizer.namedParameters().keySet().toArray(new String[0]);
    }

    @Override
    public String toString() {
        return parameterization + " " + config.describe() + " shape " + java.util.Arrays.toString(shape);
    }
}
