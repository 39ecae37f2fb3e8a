package io.github.grad4j.experiments.quant;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.*;

/** What the forward output must satisfy whatever the parameterization: grid, range, idempotence, conversions. */
class QuantizerForwardProperties {
    private static final int[] BITS = {2, 3, 4, 6, 8, 12, 16};

    private static QuantCase newCase(Parameterization p, int bitIndex, boolean perChannel, int axis, long seed) {
        return new QuantCase(p, BITS[bitIndex], perChannel, axis, p.defaultZeroPointRounding(), seed);
    }

    @Property(tries = 80)
    void outputsLieOnTheGridInsideTheRangeWithinHalfAStep(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 6) int bitIndex,
                                                          @ForAll boolean perChannel, @ForAll @IntRange(min = -3, max = 2) int axis,
                                                          @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, axis, seed);
        double[] out = qc.quantizer.forward(qc.input).toDoubleArray();
        double[] lo = qc.quantizer.effectiveRange().minValues(), hi = qc.quantizer.effectiveRange().maxValues();
        double[] inside = qc.quantizer.regions(qc.input).inside().toDoubleArray();
        for (int i = 0; i < out.length; i++) {
            int c = qc.channel(i);
            double[] sz = qc.scaleAndOffset(c);
            double s = sz[0], bigR = Math.rint(sz[1]);
            double level = out[i] / s + bigR;
            String at = qc + " element " + i + " x=" + qc.x[i] + " x_hat=" + out[i];
            assertEquals(Math.rint(level), level, 1e-6, at + ": not on the grid");
            assertTrue(level > -1e-6 && level < qc.levels + 1e-6, at + ": level " + level + " outside [0, N]");
            double tol = 1e-9 * (Math.abs(lo[c]) + Math.abs(hi[c]));
            assertTrue(out[i] >= lo[c] - tol && out[i] <= hi[c] + tol, at + ": outside [" + lo[c] + ", " + hi[c] + "]");
            // the effective range is the grid's ends: -s*R and s*(N - R)
            assertEquals(-s * bigR, lo[c], tol, at);
            assertEquals(s * (qc.levels - bigR), hi[c], tol, at);
            if (inside[i] == 1) {
                assertTrue(Math.abs(out[i] - qc.x[i]) <= s / 2 * (1 + 1e-9), at + ": error above s/2 = " + s / 2);
            } else {
                assertTrue(out[i] == lo[c] || out[i] == hi[c] || Math.abs(out[i] - lo[c]) <= tol || Math.abs(out[i] - hi[c]) <= tol,
                        at + ": a clipped element must land on an end of the range");
            }
        }
    }

    /**
     * Quantizing twice changes nothing. Beta/gamma recomputes its range from its input, whose
     * extremes quantization changes, so it is checked with its fixed grid (its min/max equivalent).
     */
    @Property(tries = 60)
    void quantizingTwiceChangesNothing(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 6) int bitIndex,
                                       @ForAll boolean perChannel, @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, 1, seed);
        Tensor once = qc.quantizer.forward(qc.input);
        Quantizer fixed = p.isRelativeToData() ? qc.quantizer.toMinMax() : qc.quantizer;
        double[] a = once.toDoubleArray(), b = fixed.forward(once.detach()).toDoubleArray();
        double scale = maxAbs(a);
        for (int i = 0; i < a.length; i++) {
            if (p.isRelativeToData()) assertEquals(a[i], b[i], 1e-12 * scale, qc + " element " + i);
            else assertEquals(a[i], b[i], 0.0, qc + " element " + i); // exact: x_hat/s is an integer to within an ulp
        }
    }

    @Property(tries = 60)
    void convertingTheStateKeepsTheForwardOutput(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 6) int bitIndex,
                                                 @ForAll boolean perChannel, @ForAll @IntRange(min = -3, max = 2) int axis,
                                                 @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, axis, seed);
        double[] want = qc.quantizer.forward(qc.input).toDoubleArray();
        double tol = 1e-9 * maxAbs(qc.x);
        assertArrayEquals(want, qc.quantizer.toMinMax().forward(qc.input).toDoubleArray(), tol, qc + " -> min-max");
        assertArrayEquals(want, qc.quantizer.toScaleOffset().forward(qc.input).toDoubleArray(), tol, qc + " -> scale-offset");
        Range data = RangeInit.dataExtremes(qc.input, qc.config.channelAxis());
        assertArrayEquals(want, qc.quantizer.toBetaGamma(data.min(), data.max()).forward(qc.input).toDoubleArray(), tol,
                qc + " -> beta-gamma");
        // the sigmoid form reaches only ranges inside the data's extremes
        Range eff = qc.quantizer.effectiveRange();
        boolean representable = true;
        for (int c = 0; c < qc.channels; c++) {
            double rb = eff.minValues()[c] / qc.dataMin[c], rg = eff.maxValues()[c] / qc.dataMax[c];
            representable &= rb > 0 && rb < 1 && rg > 0 && rg < 1;
        }
        if (representable) {
            assertArrayEquals(want, qc.quantizer.toBetaGamma(data.min(), data.max(), true).forward(qc.input).toDoubleArray(), tol,
                    qc + " -> beta-gamma-sigmoid");
        } else {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> qc.quantizer.toBetaGamma(data.min(), data.max(), true));
            assertTrue(e.getMessage().contains("outside (0, 1)"), e.getMessage());
        }
    }

    @Property(tries = 30)
    void rangeInitsAreOrderedAndMseIsNoWorseThanMinMax(@ForAll @IntRange(min = 0, max = 4) int bitIndex, @ForAll boolean perChannel,
                                                       @ForAll long seed) {
        int bits = BITS[bitIndex];
        Rng rng = new Rng(seed);
        int[] shape = {3, 200};
        double[] v = new double[600];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextGaussian() * (1 + i / 200) + (rng.nextDouble() < 0.01 ? 30 : 0);
        Tensor x = Tensor.of(v, DType.FLOAT64, shape);
        int axis = perChannel ? 0 : QuantConfig.PER_TENSOR;
        QuantConfig config = new QuantConfig(bits, axis, ZeroPointRounding.STE, false);
        Range full = RangeInit.minMax(x, axis), pct = RangeInit.percentile(x, axis, 99.0), mse = RangeInit.mseOptimal(x, axis, bits);
        for (int c = 0; c < full.minValues().length; c++) {
            assertTrue(pct.minValues()[c] >= full.minValues()[c] && pct.maxValues()[c] <= full.maxValues()[c]);
            assertTrue(mse.minValues()[c] >= full.minValues()[c] - 1e-12 && mse.maxValues()[c] <= full.maxValues()[c] + 1e-12);
        }
        double eFull = error(new MinMaxQuantizer(config, full), x), eMse = error(new MinMaxQuantizer(config, mse), x);
        assertTrue(eMse <= eFull * (1 + 1e-12), "MSE range error " + eMse + " above min/max range error " + eFull);
    }

    private static double error(Quantizer q, Tensor x) {
        double[] a = x.toDoubleArray(), b = q.forward(x).toDoubleArray();
        double e = 0;
        for (int i = 0; i < a.length; i++) e += (a[i] - b[i]) * (a[i] - b[i]);
        return e;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) m = Math.max(m, Math.abs(d));
        return m;
    }
}
