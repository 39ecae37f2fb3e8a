package io.github.grad4j.nn;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class InitTest {
    private static double[] meanStd(double[] v) {
        double m = 0, sq = 0;
        for (double d : v) m += d;
        m /= v.length;
        for (double d : v) sq += (d - m) * (d - m);
        return new double[]{m, Math.sqrt(sq / v.length)};
    }

    @Test
    void fansFollowPyTorch() {
        assertEquals(3 * 5 * 5, Init.fanIn(8, 3, 5, 5));
        assertEquals(8 * 5 * 5, Init.fanOut(8, 3, 5, 5));
        assertEquals(7, Init.fanIn(4, 7));
        assertEquals(4, Init.fanOut(4, 7));
        assertEquals(6, Init.fanIn(6));
    }

    @Test
    void distributionsHaveTheDocumentedSpread() {
        // std of U(-b, b) is b / sqrt(3)
        double[] kaimingU = Init.kaimingUniform(new Rng(1), 0, DType.FLOAT64, 200, 50).toDoubleArray();
        assertEquals(Math.sqrt(2.0 / 50), meanStd(kaimingU)[1], 0.01);
        double[] kaimingN = Init.kaimingNormal(new Rng(2), 0, DType.FLOAT64, 200, 50).toDoubleArray();
        assertEquals(Math.sqrt(2.0 / 50), meanStd(kaimingN)[1], 0.01);
        double[] xavierU = Init.xavierUniform(new Rng(3), 1, DType.FLOAT64, 100, 60).toDoubleArray();
        double bound = Math.sqrt(6.0 / 160);
        for (double d : xavierU) assertTrue(Math.abs(d) <= bound);
        assertEquals(Math.sqrt(2.0 / 160), meanStd(xavierU)[1], 0.005);
        double[] xavierN = Init.xavierNormal(new Rng(4), 2, DType.FLOAT64, 100, 60).toDoubleArray();
        assertEquals(2 * Math.sqrt(2.0 / 160), meanStd(xavierN)[1], 0.01);
        double[] normal = Init.normal(new Rng(5), 3, 0.02, DType.FLOAT64, 10000).toDoubleArray();
        assertEquals(3, meanStd(normal)[0], 0.001);
        assertEquals(0.02, meanStd(normal)[1], 0.001);
    }

    @Test
    void seededAndRejectsScalarShapes() {
        assertArrayEquals(Init.normal(new Rng(5), 0, 1, DType.FLOAT32, 7).toDoubleArray(),
                Init.normal(new Rng(5), 0, 1, DType.FLOAT32, 7).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> Init.kaimingUniform(new Rng(1), 0, DType.FLOAT32));
    }
}
