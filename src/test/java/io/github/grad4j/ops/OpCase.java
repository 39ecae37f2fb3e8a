package io.github.grad4j.ops;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One generated instance of an op under test: its differentiable inputs (each a leaf plus the
 * strided view of it the op receives) and the checks every op must pass:
 * <ul>
 *   <li>{@link #verify}: gradcheck in float64 with respect to the leaves, and the same function
 *       computed in FLOAT32 agreeing with FLOAT64 (forward values and input gradients);</li>
 *   <li>{@link #verifyTwice}: additionally gradgradcheck (ops used inside meta-learning inner loops).</li>
 * </ul>
 * Tensors the op must not differentiate (indices, masks) are captured by the op's closure.
 */
final class OpCase {
    /** Float32 results may differ from float64 by this much, relative to the result's largest magnitude. */
    static final double FLOAT32_TOLERANCE = 5e-5;

    private final String name;
    private final long seed;
    private final Rng rng;
    private final List<int[]> leafShapes = new ArrayList<>();
    private final List<double[]> leafValues = new ArrayList<>();
    private final List<Layout.Source> sources = new ArrayList<>();
    private GradCheck gradCheck = GradCheck.float64();

    private OpCase(String name, long seed) {
        this.name = name;
        this.seed = seed;
        this.rng = new Rng(seed);
    }

    static OpCase of(String name, long seed) {
        return new OpCase(name, seed);
    }

    /** The generator that drew this case's values; tests use it for further random choices. */
    Rng rng() {
        return rng;
    }

    /** Uses another gradient checker (a larger step for ops that round, such as a cast to float32). */
    OpCase withGradCheck(GradCheck check) {
        this.gradCheck = check;
        return this;
    }

    /** Adds an input the op sees with {@code shape}, stored as {@code layout}, holding {@code values}. */
    OpCase input(int[] shape, Layout layout, Values values) {
        Layout.Source source = layout.source(shape, rng);
        int n = io.github.grad4j.tensor.Shape.numel(source.leafShape());
        leafShapes.add(source.leafShape());
        leafValues.add(values.sample(rng, n));
        sources.add(source);
        return this;
    }

    /** Adds a contiguous input. */
    OpCase input(int[] shape, Values values) {
        return input(shape, Layout.CONTIGUOUS, values);
    }

    /** gradcheck (float64) and float32-vs-float64 agreement. */
    void verify(Function<Tensor[], Tensor> op) {
        Function<Tensor[], Tensor> onViews = leaves -> op.apply(views(leaves));
        GradCheck.Result r = gradCheck.gradcheck(onViews, leaves(DType.FLOAT64), new Rng(seed ^ 0x5DEECE66DL));
        if (!r.passed()) fail("gradcheck of " + describe() + ": " + r);
        checkFloat32AgreesWithFloat64(onViews);
    }

    /** As {@link #verify}, plus gradgradcheck. */
    void verifyTwice(Function<Tensor[], Tensor> op) {
        verify(op);
        Function<Tensor[], Tensor> onViews = leaves -> op.apply(views(leaves));
        GradCheck.Result r = gradCheck.gradgradcheck(onViews, leaves(DType.FLOAT64), new Rng(seed ^ 0xB5AD4ECEDA1CE2A9L));
        if (!r.passed()) fail("gradgradcheck of " + describe() + ": " + r);
    }

    String describe() {
        StringBuilder sb = new StringBuilder(name).append(" (seed ").append(seed).append(")");
        for (int i = 0; i < sources.size(); i++) {
            sb.append(", input ").append(i).append(": ").append(sources.get(i).description());
        }
        return sb.toString();
    }

    private Tensor[] leaves(DType dtype) {
        Tensor[] t = new Tensor[leafValues.size()];
        for (int i = 0; i < t.length; i++) t[i] = Tensor.of(leafValues.get(i), dtype, leafShapes.get(i));
        return t;
    }

    private Tensor[] views(Tensor[] leaves) {
        Tensor[] v = new Tensor[leaves.length];
        for (int i = 0; i < leaves.length; i++) v[i] = sources.get(i).view().apply(leaves[i]);
        return v;
    }

    private void checkFloat32AgreesWithFloat64(Function<Tensor[], Tensor> f) {
        Tensor[] x64 = leaves(DType.FLOAT64);
        Tensor[] x32 = leaves(DType.FLOAT32);
        for (int i = 0; i < x64.length; i++) {
            x64[i].requiresGrad(true);
            x32[i].requiresGrad(true);
        }
        Tensor y64 = f.apply(x64);
        Tensor y32 = f.apply(x32);
        assertEquals(DType.FLOAT64, y64.dtype(), describe() + ": float64 inputs must give a float64 result");
        assertEquals(DType.FLOAT32, y32.dtype(), describe() + ": float32 inputs must give a float32 result");
        assertArrayEquals(y64.shape(), y32.shape(), describe() + ": result shapes differ between dtypes");
        assertClose("result", y64.toDoubleArray(), y32.toDoubleArray());

        double[] weights = Values.normal().sample(new Rng(seed + 17), y64.numel());
        Tensor[] g64 = Autograd.grad(new Tensor[]{y64}, x64,
                new Tensor[]{Tensor.of(weights, DType.FLOAT64, y64.shape())}, false, false, true);
        Tensor[] g32 = Autograd.grad(new Tensor[]{y32}, x32,
                new Tensor[]{Tensor.of(weights, DType.FLOAT32, y32.shape())}, false, false, true);
        for (int i = 0; i < g64.length; i++) {
            if (g64[i] == null || g32[i] == null) {
                assertEquals(g64[i] == null, g32[i] == null, describe() + ": input " + i + " used in one dtype only");
                continue;
            }
            assertEquals(DType.FLOAT32, g32[i].dtype(), describe() + ": gradient of float32 input " + i);
            assertClose("gradient of input " + i, g64[i].toDoubleArray(), g32[i].toDoubleArray());
        }
    }

    private void assertClose(String what, double[] expected64, double[] actual32) {
        double scale = 1;
        for (double e : expected64) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < expected64.length; i++) {
            double err = Math.abs(expected64[i] - actual32[i]);
            if (!(err <= FLOAT32_TOLERANCE * scale)) {
                fail(describe() + ": float32 " + what + " element " + i + " is " + actual32[i] + ", float64 gives "
                        + expected64[i] + " (scale " + scale + ")");
            }
        }
        assertTrue(expected64.length == actual32.length, what + " lengths differ");
    }

    /** Shapes for messages. */
    static String str(int[] shape) {
        return Arrays.toString(shape);
    }
}
