package io.github.grad4j.autograd;

import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.reference.ReferenceBackend;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What backward, grad, no-grad, detach and CustomOp promise, and how they fail. */
class AutogradSemanticsTest {

    private static Tensor leaf(double... values) {
        return Tensor.of(values, values.length).requiresGrad(true);
    }

    @Test
    void backwardAccumulatesIntoGradAcrossCalls() {
        Tensor x = leaf(1, 2, 3);
        x.mul(x).sum().backward();            // d/dx sum x^2 = 2x
        assertArrayEquals(new double[]{2, 4, 6}, x.grad().toDoubleArray(), 0);
        x.mul(3.0).sum().backward();          // + 3
        assertArrayEquals(new double[]{5, 7, 9}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void secondBackwardThroughAFreedGraphFailsClearly() {
        Tensor x = leaf(1, 2);
        Tensor y = x.exp().sum();
        y.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("second time") && e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void retainedGraphCanBeBackpropagatedTwice() {
        Tensor x = leaf(1, 2);
        Tensor y = x.exp().sum();
        y.backward(Tensor.scalar(1, DType.FLOAT64), true);
        y.backward(Tensor.scalar(1, DType.FLOAT64), false);
        assertArrayEquals(new double[]{2 * Math.exp(1), 2 * Math.exp(2)}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void noGradScopeRecordsNothing() {
        Tensor x = leaf(1, 2);
        Tensor y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            y = x.mul(x).sum();
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled(), "closing the scope restores recording");
        assertFalse(y.requiresGrad());
        assertNull(y.gradFn());
        assertThrows(IllegalStateException.class, y::backward);
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(1, 2);
        Tensor d = x.mul(2.0).detach();
        assertFalse(d.requiresGrad());
        assertTrue(d.isLeaf());
        Tensor y = x.mul(d).sum();   // d is a constant: dy/dx = d = 2x, not 4x
        y.backward();
        assertArrayEquals(new double[]{2, 4}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void gradWithAllowUnusedGivesNullForUnusedInputs() {
        Tensor x = leaf(1, 2), unused = leaf(3);
        Tensor y = x.mul(x).sum();
        Tensor[] g = Autograd.grad(new Tensor[]{y}, new Tensor[]{x, unused}, null, false, true, true);
        assertArrayEquals(new double[]{2, 4}, g[0].toDoubleArray(), 0);
        assertNull(g[1]);
        assertNull(x.grad(), "grad() must not touch .grad");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Autograd.grad(new Tensor[]{y}, new Tensor[]{x, unused}, null, false, true, false));
        assertTrue(e.getMessage().contains("allowUnused"), e.getMessage());
    }

    @Test
    void gradWithCreateGraphGivesSecondDerivatives() {
        Tensor x = leaf(0.5, -1);
        Tensor y = x.mul(x).mul(x).sum();                       // y = sum x^3
        Tensor g = Autograd.grad(y, new Tensor[]{x}, true)[0];  // 3x^2
        Tensor h = Autograd.grad(g.sum(), new Tensor[]{x}, false)[0]; // 6x
        assertArrayEquals(new double[]{3, -6}, h.toDoubleArray(), 1e-12);
    }

    /** A square op whose backward is computed on detached values: right first derivative only. */
    private static Tensor firstOrderSquare(Tensor x) {
        Tensor out;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            out = x.mul(x);
        }
        Tensor xd = x.detach();
        return CustomOp.recordFirstOrderOnly(out, "firstOrderSquare", new Tensor[]{x},
                g -> new Tensor[]{g.mul(xd).mul(2.0)});
    }

    @Test
    void firstOrderOnlyOpGivesTheRightFirstDerivative() {
        Tensor x = leaf(1.5, -2);
        firstOrderSquare(x).sum().backward();
        assertArrayEquals(new double[]{3, -4}, x.grad().toDoubleArray(), 0);
    }

    @Test
    void secondDerivativeThroughFirstOrderOnlyOpThrows() {
        Tensor x = leaf(1.5, -2);
        // the op is the last one before the sum: its backward never sees a tensor that requires a
        // gradient, which must still not hide the missing second derivative
        Tensor g = Autograd.grad(firstOrderSquare(x).sum(), new Tensor[]{x}, true)[0];
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> Autograd.grad(g.sum(), new Tensor[]{x}, false));
        assertTrue(e.getMessage().contains("firstOrderSquare"), e.getMessage());
    }

    @Test
    void secondDerivativeThroughFirstOrderOnlyOpInsideAChainThrows() {
        Tensor x = leaf(1.5, -2);
        Tensor y = firstOrderSquare(x.mul(2.0)).exp().sum();
        Tensor g = Autograd.grad(y, new Tensor[]{x}, true)[0];
        assertThrows(UnsupportedOperationException.class, () -> Autograd.grad(g.sum(), new Tensor[]{x}, false));
    }

    @Test
    void gradcheckCatchesAWrongBackwardRule() {
        Rng rng = new Rng(1);
        Function<Tensor[], Tensor> wrong = x -> {
            Tensor out;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                out = x[0].mul(x[0]);
            }
            return CustomOp.record(out, "wrongSquare", x, g -> new Tensor[]{g.mul(x[0])}); // should be 2x
        };
        assertFalse(GradCheck.float64().gradcheck(wrong, new Tensor[]{Tensor.randn(rng, 1, DType.FLOAT64, 3)}, rng).passed());
    }

    @Test
    void gradgradcheckCatchesAWrongSecondDerivative() {
        Rng rng = new Rng(2);
        // first derivative right (2x), but written on a detached x: the second derivative is lost
        Function<Tensor[], Tensor> square = x -> {
            Tensor out;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                out = x[0].mul(x[0]);
            }
            Tensor xd = x[0].detach();
            return CustomOp.record(out, "detachedSquare", x, g -> new Tensor[]{g.mul(xd).mul(2.0)});
        };
        Tensor[] in = {Tensor.randn(rng, 1, DType.FLOAT64, 3)};
        assertTrue(GradCheck.float64().gradcheck(square, in, rng).passed());
        assertFalse(GradCheck.float64().gradgradcheck(square, in, rng).passed());
    }

    /** A second backend: the reference kernels under another name. */
    private static final class OtherBackend extends ReferenceBackend {
        @Override
        public String name() {
            return "other";
        }
    }

    @Test
    void mixingBackendsNamesBoth() {
        Tensor a = Tensor.of(new double[]{1, 2}, 2);
        Tensor b = a.to(new OtherBackend());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.add(b));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("'reference'")
                && e.getMessage().contains("'other'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.reshape(1, 2).matmul(b.reshape(2, 1)));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("'other'"), e.getMessage());
    }

    @Test
    void dtypeMismatchNamesOpAndBothShapes() {
        Tensor a = Tensor.zeros(DType.FLOAT32, 2, 3);
        Tensor b = Tensor.zeros(DType.FLOAT64, 3, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.matmul(b));
        assertTrue(e.getMessage().startsWith("matmul") && e.getMessage().contains("[2, 3]")
                && e.getMessage().contains("[3, 4]") && e.getMessage().contains("FLOAT32")
                && e.getMessage().contains("FLOAT64"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.add(Tensor.zeros(DType.FLOAT64, 3)));
        assertTrue(e.getMessage().startsWith("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3]"),
                e.getMessage());
    }

    /** Each leaf owns a fresh contiguous .grad: in-place updates of one gradient never leak into another. */
    @Test
    void leafGradientsDoNotAliasEachOtherOrBroadcastViews() {
        Tensor a = leaf(1, 2, 3), b = leaf(4, 5, 6);
        a.add(b).sum().backward();
        assertNotSame(a.grad().storage(), b.grad().storage());
        assertTrue(a.grad().isContiguous() && a.grad().offset() == 0 && a.grad().storage().size() == 3,
                "gradient of a sum must not be a stride-0 broadcast view: " + java.util.Arrays.toString(a.grad().strides()));
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            a.grad().assign(Tensor.of(new double[]{7, 8, 9}, 3));
        }
        assertArrayEquals(new double[]{1, 1, 1}, b.grad().toDoubleArray(), 0);
        // nor the gradient passed to backward
        Tensor c = leaf(1, 2);
        Tensor seed = Tensor.of(new double[]{3, 4}, 2);
        c.mul(1.0).add(0.0).backward(seed, false);
        assertNotSame(seed.storage(), c.grad().storage());
    }

    @Test
    void crossEntropyTargetOutOfRangeNamesTheOp() {
        Tensor logits = Tensor.zeros(DType.FLOAT64, 2, 3);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> Functional.crossEntropy(logits, Tensor.ofInts(new int[]{0, 3}, 2)));
        assertTrue(e.getMessage().startsWith("crossEntropy") && e.getMessage().contains("3"), e.getMessage());
    }

    private interface Function<A, B> extends java.util.function.Function<A, B> {
    }
}
