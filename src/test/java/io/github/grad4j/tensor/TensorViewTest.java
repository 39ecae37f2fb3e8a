package io.github.grad4j.tensor;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Views share storage (writes through one are seen by the other); copies happen only when needed. */
class TensorViewTest {

    private static Tensor counting(int... shape) {
        double[] v = new double[Shape.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = i;
        return Tensor.of(v, shape);
    }

    @Test
    void viewsShareStorageAndSeeWrites() {
        Tensor x = counting(2, 3, 4);
        Tensor[] views = {x.reshape(6, 4), x.transpose(0, 2), x.permute(2, 0, 1), x.narrow(1, 1, 2),
                x.select(0, 1), x.unsqueeze(1), x.reshape(2, 3, 4, 1).squeeze(3), x.select(1, 0).expand(3, 2, 4)};
        for (Tensor v : views) assertSame(x.storage(), v.storage(), "view " + v);
        x.set(100, 1, 0, 3);
        assertEquals(100, x.transpose(0, 2).get(3, 0, 1), 0);
        assertEquals(100, x.select(0, 1).get(0, 3), 0);
        assertEquals(100, x.select(1, 0).expand(3, 2, 4).get(2, 1, 3), 0);
    }

    @Test
    void reshapeOfNonContiguousDataCopiesOnlyWhenTheLayoutForbidsAView() {
        Tensor t = counting(3, 4).transpose(0, 1);          // [4, 3], strides [1, 4]
        Tensor flat = t.reshape(12);                        // cannot be a view
        assertNotSame(t.storage(), flat.storage());
        assertArrayEquals(t.toDoubleArray(), flat.toDoubleArray(), 0);
        Tensor split = t.reshape(2, 2, 3);                  // splitting one axis keeps a view
        assertSame(t.storage(), split.storage());
        assertArrayEquals(t.toDoubleArray(), split.toDoubleArray(), 0);
        Tensor c = t.contiguous();
        assertTrue(c.isContiguous());
        assertSame(c, c.contiguous(), "contiguous of contiguous data is the tensor itself");
    }

    @Test
    void inPlaceChangesOfDifferentiatedTensorsNeedNoGrad() {
        Tensor p = Tensor.zeros(DType.FLOAT64, 2).requiresGrad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.assign(Tensor.ones(DType.FLOAT64, 2)));
        assertTrue(e.getMessage().contains("assign") && e.getMessage().contains("noGrad"), e.getMessage());
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            p.assign(Tensor.ones(DType.FLOAT64, 2));
        }
        assertArrayEquals(new double[]{1, 1}, p.toDoubleArray(), 0);
    }

    @Test
    void accessorsNameTheProblem() {
        Tensor x = counting(2, 3);
        IllegalStateException item = assertThrows(IllegalStateException.class, x::item);
        assertTrue(item.getMessage().contains("[2, 3]"), item.getMessage());
        IndexOutOfBoundsException get = assertThrows(IndexOutOfBoundsException.class, () -> x.get(0, 3));
        assertTrue(get.getMessage().contains("axis 1"), get.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new double[5], 2, 3));
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofInts(new int[]{1}, 1).requiresGrad(true));
    }

    @Test
    void castRoundsToFloat32AndBack() {
        Tensor x = Tensor.of(new double[]{0.1, 1e-3, 3}, 3);
        float[] f = x.toDType(DType.FLOAT32).toFloatArray();
        assertArrayEquals(new float[]{0.1f, 1e-3f, 3f}, f);
        assertEquals(DType.FLOAT64, x.toDType(DType.FLOAT32).toDType(DType.FLOAT64).dtype());
        assertArrayEquals(new int[]{0, 0, 3}, x.toDType(DType.INT32).toIntArray());
    }
}
