package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

/**
 * Parameter initializers, as in torch.nn.init. Each returns a new tensor on the default backend and
 * draws from the given {@link Rng}, so the same seed gives the same weights.
 *
 * <p>Fans follow PyTorch: for a shape [out, in, k...] the receptive field is the product of k...,
 * fanIn = in * receptive and fanOut = out * receptive; a rank-1 shape has fanIn = fanOut = its size.
 */
public final class Init {
    private Init() {
    }

    /** Values drawn from N(mean, std^2). */
    public static Tensor normal(Rng rng, double mean, double std, DType dtype, int... shape) {
        double[] d = new double[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = mean + std * rng.nextGaussian();
        return Tensor.of(d, dtype, shape);
    }

    /** Values drawn uniformly from [low, high). */
    public static Tensor uniform(Rng rng, double low, double high, DType dtype, int... shape) {
        if (!(low <= high)) throw new IllegalArgumentException("Init.uniform: low " + low + " > high " + high);
        return Tensor.uniform(rng, low, high, dtype, shape);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return Tensor.zeros(dtype, shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return Tensor.ones(dtype, shape);
    }

    /** fanIn of a weight shape (see the class comment). */
    public static int fanIn(int... shape) {
        if (shape.length == 0) throw new IllegalArgumentException("Init: fan of a scalar shape is undefined");
        if (shape.length == 1) return shape[0];
        return shape[1] * receptiveField(shape);
    }

    /** fanOut of a weight shape (see the class comment). */
    public static int fanOut(int... shape) {
        if (shape.length == 0) throw new IllegalArgumentException("Init: fan of a scalar shape is undefined");
        if (shape.length == 1) return shape[0];
        return shape[0] * receptiveField(shape);
    }

    private static int receptiveField(int[] shape) {
        int r = 1;
        for (int d = 2; d < shape.length; d++) r *= shape[d];
        return r;
    }

    /** The gain of leaky_relu with negative slope a, sqrt(2 / (1 + a^2)) (a = 0: ReLU's sqrt 2). */
    public static double leakyReluGain(double a) {
        return Math.sqrt(2.0 / (1 + a * a));
    }

    /**
     * He/Kaiming uniform in fan_in mode for a leaky_relu of slope {@code a}: U(-b, b) with
     * b = gain * sqrt(3 / fanIn). With a = sqrt(5) this is PyTorch's default for Linear and Conv
     * weights, b = 1 / sqrt(fanIn).
     */
    public static Tensor kaimingUniform(Rng rng, double a, DType dtype, int... shape) {
        double bound = leakyReluGain(a) * Math.sqrt(3.0 / checkedFan(fanIn(shape), "kaimingUniform", shape));
        return uniform(rng, -bound, bound, dtype, shape);
    }

    /** He/Kaiming normal in fan_in mode: N(0, (gain / sqrt(fanIn))^2). */
    public static Tensor kaimingNormal(Rng rng, double a, DType dtype, int... shape) {
        double std = leakyReluGain(a) / Math.sqrt(checkedFan(fanIn(shape), "kaimingNormal", shape));
        return normal(rng, 0, std, dtype, shape);
    }

    /** Glorot/Xavier uniform: U(-b, b) with b = gain * sqrt(6 / (fanIn + fanOut)). */
    public static Tensor xavierUniform(Rng rng, double gain, DType dtype, int... shape) {
        double bound = gain * Math.sqrt(6.0 / checkedFan(fanIn(shape) + fanOut(shape), "xavierUniform", shape));
        return uniform(rng, -bound, bound, dtype, shape);
    }

    /** Glorot/Xavier normal: N(0, (gain * sqrt(2 / (fanIn + fanOut)))^2). */
    public static Tensor xavierNormal(Rng rng, double gain, DType dtype, int... shape) {
        double std = gain * Math.sqrt(2.0 / checkedFan(fanIn(shape) + fanOut(shape), "xavierNormal", shape));
        return normal(rng, 0, std, dtype, shape);
    }

    /** PyTorch's default bias init for Linear and Conv: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) of the weight's fanIn. */
    static Tensor defaultBias(Rng rng, int weightFanIn, DType dtype, int size) {
        double bound = weightFanIn > 0 ? 1.0 / Math.sqrt(weightFanIn) : 0;
        return uniform(rng, -bound, bound, dtype, size);
    }

    private static int checkedFan(int fan, String op, int[] shape) {
        if (fan <= 0) throw new IllegalArgumentException("Init." + op + ": shape " + Shape.str(shape) + " has zero fan");
        return fan;
    }
}
