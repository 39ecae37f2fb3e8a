package io.github.grad4j.experiments.quant;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Clear errors for invalid configurations, and hand-computed values for fixed small cases. */
class QuantErrorsTest {

    @Test
    void bitsOutsideTwoToSixteenAreRejectedByName() {
        for (int bits : new int[]{1, 17, 0, -3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> QuantConfig.perTensor(bits));
            assertTrue(e.getMessage().contains("bits = " + bits) && e.getMessage().contains("[2, 16]"), e.getMessage());
        }
        assertEquals(3, QuantConfig.perTensor(2).levels());
        assertEquals(65535, QuantConfig.perTensor(16).levels());
    }

    @Test
    void unknownParameterizationListsTheValidNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parameterization.parse("minmax2"));
        assertTrue(e.getMessage().contains("'minmax2'"), e.getMessage());
        for (Parameterization p : Parameterization.values()) assertTrue(e.getMessage().contains(p.cliName()), e.getMessage());
        assertEquals(Parameterization.MIN_MAX, Parameterization.parse("MIN_MAX"));
        assertEquals(Parameterization.BETA_GAMMA_SIGMOID, Parameterization.parse("beta-gamma-sigmoid"));
        assertThrows(IllegalArgumentException.class, () -> Parameterization.parse(null));
    }

    @Test
    void channelAxisOutOfRangeIsNamed() {
        Tensor x = Tensor.zeros(DType.FLOAT64, 4, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RangeInit.minMax(x, 2));
        assertTrue(e.getMessage().contains("channelAxis = 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RangeInit.minMax(x, -3));
        assertTrue(e.getMessage().contains("channelAxis = -3"), e.getMessage());
        Range r = RangeInit.of(new double[]{-1, -1, -1, -1}, new double[]{1, 1, 1, 1}, new int[]{4, 5}, 0, DType.FLOAT64);
        e = assertThrows(IllegalArgumentException.class, () -> new MinMaxQuantizer(QuantConfig.perChannel(4, 5), r));
        assertTrue(e.getMessage().contains("channelAxis = 5"), e.getMessage());
        MinMaxQuantizer q = new MinMaxQuantizer(QuantConfig.perChannel(4, 0), r);
        e = assertThrows(IllegalArgumentException.class, () -> q.forward(Tensor.zeros(DType.FLOAT64, 5, 5)));
        assertTrue(e.getMessage().contains("5 channels") && e.getMessage().contains("has 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> q.forward(Tensor.zeros(DType.FLOAT64, 4, 5, 1)));
        assertTrue(e.getMessage().contains("rank 3"), e.getMessage());
    }

    @Test
    void betaGammaNeedsDataBeforeItHasARange() {
        BetaGammaQuantizer q = BetaGammaQuantizer.initial(QuantConfig.perTensor(4), Tensor.scalar(0, DType.FLOAT64), false);
        assertThrows(IllegalStateException.class, q::effectiveRange);
    }

    /** Worked by hand: b = 2 (N = 3), range [-1, 2]: s = 1, z = 1, levels at -1, 0, 1, 2. */
    @Test
    void aSmallCaseWorkedByHand() {
        Range range = new Range(Tensor.scalar(-1, DType.FLOAT64), Tensor.scalar(2, DType.FLOAT64));
        MinMaxQuantizer q = new MinMaxQuantizer(QuantConfig.perTensor(2), range);
        Tensor x = Tensor.of(new double[]{-3, -0.6, 0.2, 0.5, 1.5, 1.6, 7}, DType.FLOAT64, 7);
        // round half to even: 0.5 -> 0, 1.5 -> 2
        assertArrayEquals(new double[]{-1, -1, 0, 0, 2, 2, 2}, q.forward(x).toDoubleArray(), 1e-15);
        // d sum(x_hat)/d theta_max: inside r/N, below -e_z/N = 0, above 1 - e_z/N = 1 (z is an integer here)
        // r = round(x/s) - x/s inside: -0.6 -> -0.4, 0.2 -> -0.2, 0.5 -> -0.5, 1.5 -> 0.5, 1.6 -> 0.4
        Tensor sum = q.forward(x).sum();
        Tensor[] g = io.github.grad4j.autograd.Autograd.grad(sum, q.parameters().toArray(new Tensor[0]), false);
        double insideR = -0.4 - 0.2 - 0.5 + 0.5 + 0.4;
        assertEquals(1 - insideR / 3, g[0].item(), 1e-12);          // theta_min: below 1 + e_z/N = 1, inside -r/N
        assertEquals(1 + insideR / 3, g[1].item(), 1e-12);          // theta_max: above 1, inside r/N
    }
}
