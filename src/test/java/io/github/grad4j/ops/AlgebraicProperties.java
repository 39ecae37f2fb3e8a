package io.github.grad4j.ops;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.function.BinaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Laws the ops must satisfy whatever their inputs, layouts and shapes. */
class AlgebraicProperties {

    @Provide
    Arbitrary<int[]> atLeastRank1() {
        return Shapes.shapes(1, 4, 200);
    }

    @Provide
    Arbitrary<int[]> shape() {
        return Shapes.shapes(0, 4, 200);
    }

    @Provide
    Arbitrary<int[][]> pairs() {
        return Shapes.broadcastPairs(4, 200);
    }

    private static Tensor input(int[] shape, Layout layout, Rng rng, double scale) {
        Layout.Source src = layout.source(shape, rng);
        double[] v = Values.normal().sample(rng, Shape.numel(src.leafShape()));
        for (int i = 0; i < v.length; i++) v[i] *= scale;
        return src.view().apply(Tensor.of(v, DType.FLOAT64, src.leafShape()));
    }

    @Property(tries = 40)
    void softmaxRowsArePositiveAndSumToOne(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng rng = new Rng(seed);
        int axis = rng.nextInt(s.length);
        // large logits too: the max shift must keep exp from overflowing
        Tensor y = input(s, l, rng, rng.nextInt(2) == 0 ? 1 : 300).softmax(axis);
        for (double e : y.toDoubleArray()) assertTrue(e >= 0 && e <= 1, "softmax element " + e);
        for (double e : y.sum(axis).toDoubleArray()) assertEquals(1.0, e, 1e-12);
    }

    @Property(tries = 40)
    void logSoftmaxIsLogOfSoftmax(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng rng = new Rng(seed);
        int axis = rng.nextInt(s.length);
        Tensor x = input(s, l, rng, 3);
        assertArrayEquals(x.softmax(axis).log().toDoubleArray(), x.logSoftmax(axis).toDoubleArray(), 1e-12);
    }

    /** mean cross-entropy equals minus the mean of the log-probabilities at the targets, picked by a loop. */
    @Property(tries = 40)
    void crossEntropyIsMeanNegativeLogSoftmaxPicked(@ForAll long seed) {
        Rng rng = new Rng(seed);
        int n = 1 + rng.nextInt(7), classes = 1 + rng.nextInt(7);
        Tensor logits = Tensor.randn(rng, 2, DType.FLOAT64, n, classes);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextInt(classes);
        double[] logp = logits.logSoftmax(1).toDoubleArray();
        double expected = 0;
        for (int i = 0; i < n; i++) expected -= logp[i * classes + t[i]] / n;
        assertEquals(expected, Functional.crossEntropy(logits, Tensor.ofInts(t, n)).item(), 1e-12);
    }

    @Property(tries = 40)
    void reshapeRoundTripsAndSharesStorageWhenContiguous(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng rng = new Rng(seed);
        Tensor x = input(s, l, rng, 1);
        int[] target = Shapes.regrouped(s, rng);
        Tensor y = x.reshape(target);
        assertArrayEquals(target, y.shape());
        assertArrayEquals(x.toDoubleArray(), y.toDoubleArray(), 0, "row-major order is kept");
        assertArrayEquals(x.toDoubleArray(), y.reshape(s).toDoubleArray(), 0, "reshape back gives the same values");
        if (x.isContiguous()) {
            assertTrue(y.storage() == x.storage() && y.offset() == x.offset(),
                    "reshape of a contiguous tensor must be a view, not a copy");
        }
    }

    @Property(tries = 40)
    void transposeTwiceIsIdentity(@ForAll("shape") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng rng = new Rng(seed);
        Tensor x = input(s, l, rng, 1);
        int a = s.length == 0 ? 0 : rng.nextInt(s.length), b = s.length == 0 ? 0 : rng.nextInt(s.length);
        Tensor back = s.length == 0 ? x : x.transpose(a, b).transpose(a, b);
        assertArrayEquals(x.shape(), back.shape());
        assertArrayEquals(x.toDoubleArray(), back.toDoubleArray(), 0);
        assertTrue(back.storage() == x.storage(), "transpose is a view");
    }

    /** a op b with broadcasting equals the op on operands explicitly expanded and copied. */
    @Property(tries = 40)
    void broadcastingEqualsExplicitExpansion(@ForAll("pairs") int[][] s, @ForAll Layout la, @ForAll Layout lb,
                                             @ForAll long seed) {
        Rng rng = new Rng(seed);
        Tensor a = input(s[0], la, rng, 1), b = input(s[1], lb, rng, 1).abs().add(0.5);
        int[] full = Shape.broadcast("test", s[0], s[1]);
        @SuppressWarnings("unchecked")
        BinaryOperator<Tensor>[] ops = new BinaryOperator[]{
                (BinaryOperator<Tensor>) Tensor::add, (BinaryOperator<Tensor>) Tensor::sub,
                (BinaryOperator<Tensor>) Tensor::mul, (BinaryOperator<Tensor>) Tensor::div,
                (BinaryOperator<Tensor>) Tensor::maximum, (BinaryOperator<Tensor>) Tensor::minimum};
        for (BinaryOperator<Tensor> op : ops) {
            Tensor broadcast = op.apply(a, b);
            Tensor explicit = op.apply(a.expand(full).contiguous(), b.expand(full).contiguous());
            assertArrayEquals(full, broadcast.shape());
            assertArrayEquals(explicit.toDoubleArray(), broadcast.toDoubleArray(), 0);
        }
    }

    @Property(tries = 40)
    void matmulDistributesOverAdd(@ForAll long seed) {
        Rng rng = new Rng(seed);
        int[][] s = LinearAlgebraGradProperties.matmulShapes(rng);
        Tensor a = input(s[0], Layout.CONTIGUOUS, rng, 1);
        Tensor b = input(s[1], Layout.TRANSPOSED, rng, 1), c = input(s[1], Layout.NARROWED, rng, 1);
        assertArrayEquals(a.matmul(b).add(a.matmul(c)).toDoubleArray(), a.matmul(b.add(c)).toDoubleArray(), 1e-12);
    }

    /** Summing all axes at once equals summing axis by axis (in any order) and the plain total. */
    @Property(tries = 40)
    void sumOverAllAxesEqualsSumOfSums(@ForAll("atLeastRank1") int[] s, @ForAll Layout l, @ForAll long seed) {
        Rng rng = new Rng(seed);
        Tensor x = input(s, l, rng, 1);
        double total = 0;
        for (double e : x.toDoubleArray()) total += e;
        Tensor stepwise = x;
        int[] order = new int[s.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        rng.shuffle(order);
        int removed = 0;
        for (int i = 0; i < order.length; i++) {
            int axis = order[i];
            int shift = 0; // axes before it that were already removed
            for (int j = 0; j < i; j++) if (order[j] < axis) shift++;
            stepwise = stepwise.sum(axis - shift);
            removed++;
        }
        assertEquals(s.length, removed);
        assertEquals(total, x.sum().item(), 1e-12);
        assertEquals(total, stepwise.item(), 1e-12);
        assertEquals(total / x.numel(), x.mean().item(), 1e-12);
    }
}
