package io.github.grad4j.optim;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GradClipAndScheduleTest {

    private static Tensor withGrad(double[] grad, int... shape) {
        Tensor p = Tensor.zeros(DType.FLOAT64, shape).requiresGrad(true);
        p.setGrad(Tensor.of(grad, DType.FLOAT64, shape));
        return p;
    }

    @Test
    void clipScalesAllGradientsByOneFactorAndReturnsTheNormBefore() {
        Tensor a = withGrad(new double[]{3, 4}, 2), b = withGrad(new double[]{12}, 1);
        Tensor none = Tensor.zeros(DType.FLOAT64, 3).requiresGrad(true);
        double total = GradClip.clipGradNorm(List.of(a, b, none), 6.5);
        assertEquals(13, total, 1e-12);
        double coef = 6.5 / (13 + 1e-6);
        assertArrayEquals(new double[]{3 * coef, 4 * coef}, a.grad().toDoubleArray(), 1e-15);
        assertArrayEquals(new double[]{12 * coef}, b.grad().toDoubleArray(), 1e-15);
        assertNull(none.grad());
        assertEquals(6.5, GradClip.totalNorm(List.of(a, b)), 1e-6);
    }

    @Test
    void clipLeavesSmallGradientsAlone() {
        Tensor a = withGrad(new double[]{3, 4}, 2);
        Tensor g = a.grad();
        assertEquals(5, GradClip.clipGradNorm(List.of(a), 5.1), 1e-12);
        assertSame(g, a.grad());
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(List.of(a), 0));
    }

    @Test
    void clipIsCorrectWhenAutogradGradientsShareStorage() {
        // the backward of add hands the same gradient tensor to both operands: scaling in place would scale twice
        Tensor a = Tensor.zeros(DType.FLOAT64, 4).requiresGrad(true), b = Tensor.zeros(DType.FLOAT64, 4).requiresGrad(true);
        a.add(b).mul(3.0).sum().backward();
        double total = GradClip.clipGradNorm(List.of(a, b), 1.0);
        assertEquals(Math.sqrt(8 * 9), total, 1e-12);
        double coef = 1.0 / (total + 1e-6);
        for (double g : a.grad().toDoubleArray()) assertEquals(3 * coef, g, 1e-15);
        for (double g : b.grad().toDoubleArray()) assertEquals(3 * coef, g, 1e-15);
    }

    @Test
    void warmupCosineMatchesNanoGptGetLr() {
        double lr = 6e-4, minLr = 6e-5;
        LrSchedule s = LrSchedule.warmupCosine(lr, minLr, 10, 110);
        assertEquals(lr * 1 / 11, s.at(0), 1e-18);
        assertEquals(lr * 10 / 11, s.at(9), 1e-18);
        assertEquals(lr, s.at(10), 1e-18);
        assertEquals((lr + minLr) / 2, s.at(60), 1e-15);
        assertEquals(minLr + 0.5 * (1 + Math.cos(Math.PI * 0.25)) * (lr - minLr), s.at(35), 1e-15);
        assertEquals(minLr, s.at(110), 1e-18);
        assertEquals(minLr, s.at(10_000), 0.0);
        for (int step = 10; step < 110; step++) assertTrue(s.at(step + 1) <= s.at(step), "not decreasing at " + step);
        assertEquals(0.1, LrSchedule.constant(0.1).at(123), 0.0);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(lr, minLr, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.warmupCosine(minLr, lr, 1, 10));
    }
}
