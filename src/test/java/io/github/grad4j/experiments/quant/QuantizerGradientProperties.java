package io.github.grad4j.experiments.quant;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The quantizers' backward against the reference note's per-region table everywhere (not only
 * away from rounding boundaries), and against central differences of the straight-through
 * surrogate.
 */
class QuantizerGradientProperties {

    private static final int[] BITS = {2, 3, 4, 8, 16};

    private static QuantCase newCase(Parameterization p, int bitIndex, boolean perChannel, int axis,
                                     ZeroPointRounding rounding, long seed) {
        return new QuantCase(p, BITS[bitIndex], perChannel, axis, rounding, seed);
    }

    @Property(tries = 120)
    void backwardEqualsTheTableInEveryRegion(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 4) int bitIndex,
                                              @ForAll boolean perChannel, @ForAll @IntRange(min = -3, max = 2) int axis,
                                              @ForAll ZeroPointRounding rounding, @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, axis, rounding, seed);
        double[][][] expected = qc.expectedByRegion();

        // the plain autograd gradient equals the table summed over regions
        Tensor[] grads = gradients(qc.quantizer, qc.input, qc.upstreamTensor);
        for (int k = 0; k < 2; k++) {
            double[] got = grads[k].toDoubleArray();
            for (int c = 0; c < qc.channels; c++) {
                double want = expected[0][k][c] + expected[1][k][c] + expected[2][k][c];
                assertClose(want, got[c], qc + " d/d" + qc.parameterNames()[k] + " channel " + c);
            }
        }

        // and the split reproduces each region's row
        Map<String, GradientSplit.RegionGradients> split = GradientSplit.split(qc.quantizer, qc.input, qc.upstreamTensor);
        int k = 0;
        for (Map.Entry<String, GradientSplit.RegionGradients> e : split.entrySet()) {
            double[][] parts = {e.getValue().below().toDoubleArray(), e.getValue().inside().toDoubleArray(),
                    e.getValue().above().toDoubleArray()};
            for (int reg = 0; reg < 3; reg++) {
                for (int c = 0; c < qc.channels; c++) {
                    assertClose(expected[reg][k][c], parts[reg][c], qc + " region " + reg + " d/d" + e.getKey() + " c" + c);
                }
            }
            k++;
        }
    }

    @Property(tries = 60)
    void splitSumsToTheAutogradGradient(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 4) int bitIndex,
                                        @ForAll boolean perChannel, @ForAll @IntRange(min = -3, max = 2) int axis,
                                        @ForAll boolean lsq, @ForAll long seed) {
        QuantCase base = newCase(p, bitIndex, perChannel, axis, p.defaultZeroPointRounding(), seed);
        Quantizer q = base.quantizer;
        if (lsq) q = withConfig(base, base.config.withLsqGradScale(true));
        Tensor[] grads = gradients(q, base.input, base.upstreamTensor);
        Map<String, GradientSplit.RegionGradients> split = GradientSplit.split(q, base.input, base.upstreamTensor);
        int k = 0;
        for (GradientSplit.RegionGradients rg : split.values()) {
            double[] total = rg.total().toDoubleArray(), want = grads[k++].toDoubleArray();
            for (int c = 0; c < want.length; c++) assertClose(want[c], total[c], base + " split sum, channel " + c);
        }
        // every element is in exactly one region
        Regions regions = q.regions(base.input);
        long[] counts = regions.counts();
        assertEquals(base.x.length, counts[0] + counts[1] + counts[2], base.toString());
    }

    @Property(tries = 40)
    void lsqGradScaleMultipliesTheRangeGradientsOnly(@ForAll Parameterization p, @ForAll @IntRange(min = 0, max = 4) int bitIndex,
                                                     @ForAll boolean perChannel, @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, 0, p.defaultZeroPointRounding(), seed);
        Quantizer scaled = withConfig(qc, qc.config.withLsqGradScale(true));
        double numelPerChannel = (double) qc.x.length / qc.channels;
        double g = 1 / Math.sqrt(numelPerChannel * qc.levels);
        assertEquals(g, scaled.lsqFactor(qc.input), 1e-15);
        Tensor[] plain = gradients(qc.quantizer, qc.input, qc.upstreamTensor);
        Tensor[] withLsq = gradients(scaled, qc.input, qc.upstreamTensor);
        for (int k = 0; k < 2; k++) {
            double[] a = plain[k].toDoubleArray(), b = withLsq[k].toDoubleArray();
            for (int c = 0; c < a.length; c++) assertClose(g * a[c], b[c], qc + " LSQ scaled gradient");
        }
        assertArrayEquals(qc.quantizer.forward(qc.input).toDoubleArray(), scaled.forward(qc.input).toDoubleArray(), 0.0);
    }

    /**
     * Central differences (float64) of the straight-through surrogate: round(x/s) replaced by
     * x/s + c and (with STE) round(z) by z + c_z, with c, c_z and the regions frozen at the base
     * point, which is chosen away from rounding boundaries so that the surrogate equals the
     * quantizer there. The checked function has the quantizer's backward and the surrogate's values.
     */
    @Property(tries = 60)
    void backwardMatchesFiniteDifferencesOfTheSurrogate(@ForAll Parameterization p,
                                                        @ForAll @IntRange(min = 0, max = 4) int bitIndex,
                                                        @ForAll boolean perChannel, @ForAll @IntRange(min = -3, max = 2) int axis,
                                                        @ForAll ZeroPointRounding rounding, @ForAll long seed) {
        QuantCase qc = newCase(p, bitIndex, perChannel, axis, rounding, seed);
        moveAwayFromRoundingBoundaries(qc);
        Tensor x0 = Tensor.of(qc.x, DType.FLOAT64, qc.shape);
        String[] names = qc.parameterNames();
        // frozen at the base point
        int n = qc.x.length;
        double[] cu = new double[n], cz = new double[n], bigR = new double[n];
        double[] below = new double[n], inside = new double[n], above = new double[n];
        double[] dataMin = new double[n], dataMax = new double[n];
        for (int i = 0; i < n; i++) {
            int c = qc.channel(i);
            double[] sz = qc.scaleAndOffset(c);
            cu[i] = Math.rint(qc.x[i] / sz[0]) - qc.x[i] / sz[0];
            bigR[i] = Math.rint(sz[1]);
            cz[i] = bigR[i] - sz[1];
            int reg = qc.region(i);
            below[i] = reg == QuantCase.BELOW ? 1 : 0;
            inside[i] = reg == QuantCase.INSIDE ? 1 : 0;
            above[i] = reg == QuantCase.ABOVE ? 1 : 0;
            dataMin[i] = qc.dataMin[c];
            dataMax[i] = qc.dataMax[c];
        }
        int[] shape = qc.shape;
        Tensor tCu = t(cu, shape), tCz = t(cz, shape), tR = t(bigR, shape), tBelow = t(below, shape), tInside = t(inside, shape),
                tAbove = t(above, shape), tMin = t(dataMin, shape), tMax = t(dataMax, shape);
        boolean ste = rounding == ZeroPointRounding.STE;
        int levels = qc.levels;

        java.util.function.Function<Tensor[], Tensor> surrogate = in -> {
            Tensor x = in[0], a = in[1], b = in[2];
            Tensor s, z;
            if (p == Parameterization.SCALE_OFFSET) {
                s = a;
                z = b;
            } else {
                Tensor lo = a, hi = b;
                if (p == Parameterization.BETA_GAMMA) {
                    lo = a.mul(tMin);
                    hi = b.mul(tMax);
                } else if (p == Parameterization.BETA_GAMMA_SIGMOID) {
                    lo = a.neg().exp().add(1).pow(-1).mul(tMin);
                    hi = b.neg().exp().add(1).pow(-1).mul(tMax);
                }
                s = hi.sub(lo).div(levels);
                z = lo.neg().div(s);
            }
            Tensor zeroPoint = ste ? z.add(tCz) : tR;
            Tensor insideValue = x.add(s.mul(tCu));
            Tensor belowValue = s.mul(zeroPoint).neg();
            Tensor aboveValue = s.mul(zeroPoint.neg().add(levels));
            return insideValue.mul(tInside).add(belowValue.mul(tBelow)).add(aboveValue.mul(tAbove));
        };

        Tensor[] base = {x0, qc.parameterTensors()[0].detach(), qc.parameterTensors()[1].detach()};
        // the surrogate is a faithful stand-in at the base point
        assertArrayEquals(qc.quantizer.forward(x0).toDoubleArray(), surrogate.apply(base).toDoubleArray(),
                1e-9 * (1 + maxAbs(qc.x)), qc + ": surrogate differs from the quantizer at the base point");

        java.util.function.Function<Tensor[], Tensor> checked = in -> {
            Map<String, Tensor> replacement = new LinkedHashMap<>();
            replacement.put(names[0], in[1]);
            replacement.put(names[1], in[2]);
            Tensor q = qc.quantizer.functionalCall(replacement, () -> qc.quantizer.forward(in[0]));
            return q.add(surrogate.apply(in).sub(q).detach());
        };
        Tensor[] inputs = {x0.detach(), base[1].detach(), base[2].detach()};
        Tensor[] leaves = {Tensor.of(qc.x, DType.FLOAT64, shape), copyOf(inputs[1]), copyOf(inputs[2])};
        GradCheck.Result r = GradCheck.float64().gradcheck(checked, leaves, new Rng(seed ^ 0x5eed));
        assertTrue(r.passed(), qc + ": " + r);
    }

    /**
     * Moves every x whose x/s is within 0.1 of a .5 boundary to 0.3 from the nearest integer. For
     * beta/gamma the channel extremes set s, so they stay where they are and no move may cross them.
     */
    private static void moveAwayFromRoundingBoundaries(QuantCase qc) {
        boolean relative = qc.parameterization.isRelativeToData();
        for (int i = 0; i < qc.x.length; i++) {
            int c = qc.channel(i);
            if (relative && (qc.x[i] == qc.dataMin[c] || qc.x[i] == qc.dataMax[c])) continue;
            double s = qc.scaleAndOffset(c)[0];
            double u = qc.x[i] / s;
            double frac = u - Math.floor(u);
            if (Math.abs(frac - 0.5) >= 0.1) continue;
            double moved = s * (Math.floor(u) + 0.3);
            if (moved > qc.dataMin[c] && moved < qc.dataMax[c]) qc.x[i] = moved;
        }
    }

    static Quantizer withConfig(QuantCase qc, QuantConfig config) {
        Tensor[] ps = qc.parameterTensors();
        return switch (qc.parameterization) {
            case SCALE_OFFSET -> new ScaleOffsetQuantizer(config, ps[0].detach(), ps[1].detach());
            case MIN_MAX -> new MinMaxQuantizer(config, new Range(ps[0].detach(), ps[1].detach()));
            case BETA_GAMMA -> new BetaGammaQuantizer(config, ps[0].detach(), ps[1].detach(), false);
            case BETA_GAMMA_SIGMOID -> new BetaGammaQuantizer(config, ps[0].detach(), ps[1].detach(), true);
        };
    }

    /** d sum(upstream * q(x)) / d(each range parameter); zeros for a parameter the output does not use. */
    static Tensor[] gradients(Quantizer q, Tensor x, Tensor upstream) {
        Tensor[] params = q.namedParameters().values().toArray(new Tensor[0]);
        Tensor out = q.forward(x).mul(upstream).sum();
        Tensor[] g = Autograd.grad(new Tensor[]{out}, params, null, false, false, true);
        for (int k = 0; k < g.length; k++) {
            if (g[k] == null) g[k] = Tensor.zeros(DType.FLOAT64, params[k].shape());
        }
        return g;
    }

    private static Tensor t(double[] v, int[] shape) {
        return Tensor.of(v, DType.FLOAT64, shape);
    }

    private static Tensor copyOf(Tensor t) {
        return Tensor.of(t.toDoubleArray(), DType.FLOAT64, t.shape());
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) m = Math.max(m, Math.abs(d));
        return m;
    }

    static void assertClose(double want, double got, String what) {
        double tol = 1e-9 * (1 + Math.abs(want));
        assertTrue(Math.abs(want - got) <= tol, what + ": expected " + want + ", got " + got);
    }
}
