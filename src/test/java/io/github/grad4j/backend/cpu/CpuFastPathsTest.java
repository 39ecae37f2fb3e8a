package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The cpu backend's float32 fast paths for indexing, transcendental unary ops, and the fused
 * kernels at the kernel level, against the reference backend (the specification: plain loops,
 * and for fused kernels the composite defaults of Backend) on awkward shapes; for both the
 * Vector API and the scalar kernels.
 */
class CpuFastPathsTest {
    static final Backend REF = ReferenceBackend.INSTANCE;
    static final CpuBackend[] FAST = {CpuBackend.create(), CpuBackend.create(2, false)};
    static final int[] SIZES = {1, 2, 7, 15, 16, 17, 33, 100};

    static float[] random(SplittableRandom rng, int n, double scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (scale * (2 * rng.nextDouble() - 1));
        return f;
    }

    static Strided on(Backend b, float[] data, int... shape) {
        return Strided.contiguous(b.upload(data.clone()), shape);
    }

    static Strided ints(Backend b, int[] data, int... shape) {
        return Strided.contiguous(b.upload(data.clone()), shape);
    }

    static Strided zeros(Backend b, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        return Strided.contiguous(b.allocate(DType.FLOAT32, n), shape);
    }

    static void close(Strided expected, Strided actual, double tol, String what) {
        double[] e = expected.storage().backend().download(expected), a = actual.storage().backend().download(actual);
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            assertEquals(e[i], a[i], tol * (1 + Math.abs(e[i])), what + " element " + i);
        }
    }

    @Test
    void indexingMatchesReferenceExactly() {
        SplittableRandom rng = new SplittableRandom(1);
        for (CpuBackend cpu : FAST) {
            for (int pre : new int[]{1, 3}) for (int size : new int[]{1, 5, 17}) for (int post : new int[]{1, 7, 65, 130}) {
                int n = 11;
                int[] idx = new int[n];
                for (int i = 0; i < n; i++) idx[i] = rng.nextInt(size); // with repeats
                float[] x = random(rng, pre * size * post, 1);
                float[] src = random(rng, pre * n * post, 1);
                for (int dim = 0; dim < 3; dim++) {
                    if (dim != 1) continue; // the 3-axis view makes axis 1 the indexed one
                }
                String what = "pre " + pre + " size " + size + " post " + post;
                Strided eo = zeros(REF, pre, n, post), ao = zeros(cpu, pre, n, post);
                REF.indexSelect(on(REF, x, pre, size, post), 1, ints(REF, idx, n), eo);
                cpu.indexSelect(on(cpu, x, pre, size, post), 1, ints(cpu, idx, n), ao);
                close(eo, ao, 0, "indexSelect " + what);
                Strided eb = on(REF, x, pre, size, post), ab = on(cpu, x, pre, size, post);
                REF.indexAdd(on(REF, src, pre, n, post), 1, ints(REF, idx, n), eb);
                cpu.indexAdd(on(cpu, src, pre, n, post), 1, ints(cpu, idx, n), ab);
                close(eb, ab, 1e-6, "indexAdd " + what);
                int[] gidx = new int[pre * n * post];
                for (int i = 0; i < gidx.length; i++) gidx[i] = rng.nextInt(size);
                Strided eg = zeros(REF, pre, n, post), ag = zeros(cpu, pre, n, post);
                REF.gather(on(REF, x, pre, size, post), 1, ints(REF, gidx, pre, n, post), eg);
                cpu.gather(on(cpu, x, pre, size, post), 1, ints(cpu, gidx, pre, n, post), ag);
                close(eg, ag, 0, "gather " + what);
                Strided es = on(REF, x, pre, size, post), as = on(cpu, x, pre, size, post);
                REF.scatterAdd(on(REF, src, pre, n, post), 1, ints(REF, gidx, pre, n, post), es);
                cpu.scatterAdd(on(cpu, src, pre, n, post), 1, ints(cpu, gidx, pre, n, post), as);
                close(es, as, 1e-6, "scatterAdd " + what);
            }
        }
    }

    /** Distance in units in the last place between two floats of one sign region. */
    static long ulps(float a, float b) {
        if (a == b) return 0;
        if (Float.isNaN(a) || Float.isNaN(b)) return Float.isNaN(a) && Float.isNaN(b) ? 0 : Long.MAX_VALUE;
        int ia = Float.floatToIntBits(a), ib = Float.floatToIntBits(b);
        long la = ia < 0 ? (long) Integer.MIN_VALUE - ia : ia, lb = ib < 0 ? (long) Integer.MIN_VALUE - ib : ib;
        return Math.abs(la - lb);
    }

    /**
     * The vector kernels' exp is made of IEEE operations only, so it must equal, bit for bit, the
     * same operations done one lane at a time in plain Java: whatever the JIT has or has not
     * compiled, a run gets the same numbers (the Vector API's own EXP differs in the last bit
     * between its compiled SVML and its interpreted fallback). Over the whole range, the edges of
     * overflow and of subnormal results, and the specials.
     */
    @Test
    void vectorExpIsTheSameIeeeArithmeticInEveryLane() {
        SplittableRandom rng = new SplittableRandom(5);
        int lanes = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
        float[] x = new float[lanes * 20_000];
        for (int i = 0; i < x.length; i++) x[i] = (float) (-110 + 210 * rng.nextDouble());
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 88.72283f, 88.72284f,
                -87.33655f, -103.2789f, -103.972084f, -104f, 89f, 1e-30f, -1e-30f, Float.MAX_VALUE, -Float.MAX_VALUE};
        System.arraycopy(specials, 0, x, 0, specials.length);
        float[] got = new float[x.length];
        for (int i = 0; i < x.length; i += lanes) {
            VectorKernels.exp(jdk.incubator.vector.FloatVector.fromArray(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED, x, i))
                    .intoArray(got, i);
        }
        for (int i = 0; i < x.length; i++) {
            float want = expByLane(x[i]);
            assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(got[i]), "exp(" + x[i] + "): " + got[i] + " vs " + want);
            double ref = Math.exp(x[i]);
            if (!Double.isNaN(ref) && ref < Float.MAX_VALUE && ref > Float.MIN_NORMAL) {
                assertTrue(ulps((float) ref, got[i]) <= 1, "exp(" + x[i] + ") = " + got[i] + ", correctly rounded " + (float) ref);
            }
        }
    }

    /** VectorKernels.exp's arithmetic for one lane, in scalar Java. */
    private static float expByLane(float x) {
        if (Float.isNaN(x)) return x;
        float xc = Math.min(Math.max(x, -104f), 89f);
        float shifted = xc * 1.44269504088896341f + 12582912f, n = shifted - 12582912f;
        float r = Math.fma(n, -0.693359375f, xc);
        r = Math.fma(n, 2.12194440e-4f, r);
        float p = Math.fma(r, 1.9875691500e-4f, 1.3981999507e-3f);
        p = Math.fma(p, r, 8.3334519073e-3f);
        p = Math.fma(p, r, 4.1665795894e-2f);
        p = Math.fma(p, r, 1.6666665459e-1f);
        p = Math.fma(p, r, 5.0000001201e-1f);
        float y = Math.fma(p, r * r, r) + 1f;
        int k = Float.floatToRawIntBits(shifted) - Float.floatToRawIntBits(12582912f), k1 = k >> 1, k2 = k - k1;
        return y * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
    }

    /**
     * Worst error of each vectorized transcendental over 200 000 values in its useful range plus
     * specials, against the reference (double precision rounded to float), printed. Bounds: exp,
     * log, tanh, sigmoid within 2 ulp; GELU (computed as x sigmoid(2 inner) in float, whose inner
     * carries float rounding) within a relative 4e-6 (measured 2.2e-6, 34 ulp where GELU is ~1e-6) where |GELU(x)| &gt;= 1e-6, else 1e-11 absolute.
     */
    @Test
    void transcendentalsWithinAFewUlp() {
        SplittableRandom rng = new SplittableRandom(2);
        int n = 200_000;
        Object[][] cases = {
                {UnaryOp.EXP, -87.0, 88.0}, {UnaryOp.LOG, 0.0, 1e6}, {UnaryOp.TANH, -10.0, 10.0},
                {UnaryOp.SIGMOID, -30.0, 30.0}, {UnaryOp.GELU_TANH, -12.0, 12.0}};
        for (CpuBackend cpu : FAST) {
            for (Object[] c : cases) {
                UnaryOp op = (UnaryOp) c[0];
                double lo = (double) c[1], hi = (double) c[2];
                float[] x = new float[n + 8];
                for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * rng.nextDouble());
                float[] specials = {0f, -0f, 1e-30f, -1e-30f, 1f, -1f, Float.MIN_NORMAL, 3e-5f};
                System.arraycopy(specials, 0, x, n, specials.length);
                Strided out = zeros(cpu, x.length);
                cpu.unary(op, on(cpu, x, x.length), out, 0, 0);
                float[] got = cpu.downloadFloats(out);
                long worst = 0;
                double worstRel = 0;
                int worstAt = 0;
                for (int i = 0; i < x.length; i++) {
                    if (op == UnaryOp.LOG && x[i] < 0) continue;
                    float ref = (float) ReferenceBackend.unary(op, x[i], 0, 0);
                    // below 1e-6 the reference GELU itself cancels (1 + tanh in double): compare absolutely
                    double tiny = op == UnaryOp.GELU_TANH ? 1e-6 : 1e-30;
                    if (Math.abs(ref) < tiny || Float.isInfinite(ref)) {
                        assertEquals(ref, got[i], tiny * 1e-5, op + " near zero or infinite at x = " + x[i]);
                        continue;
                    }
                    long u = ulps(ref, got[i]);
                    double rel = Math.abs((double) got[i] - ref) / Math.abs(ref);
                    worstRel = Math.max(worstRel, rel);
                    if (u > worst) {
                        worst = u;
                        worstAt = i;
                    }
                }
                System.out.printf("%s on %s: max %d ulp (at x = %s), max relative error %.2e%n", op, cpu.describe(), worst,
                        x[worstAt], worstRel);
                if (op == UnaryOp.GELU_TANH) assertTrue(worstRel <= 4e-6, op + ": relative error " + worstRel);
                else assertTrue(worst <= 2, op + " (" + cpu.describe() + "): " + worst + " ulp at x = " + x[worstAt]);
            }
        }
    }

    @Test
    void fusedKernelsMatchTheCompositeDefaults() {
        SplittableRandom rng = new SplittableRandom(3);
        for (CpuBackend cpu : FAST) {
            for (int r : new int[]{1, 3, 17}) for (int c : SIZES) {
                String what = r + "x" + c + " " + cpu.describe();
                float[] x = random(rng, r * c, 4), w = random(rng, c, 1), b = random(rng, c, 1), g = random(rng, r * c, 1);
                for (boolean log : new boolean[]{false, true}) {
                    Strided e = zeros(REF, r, c), a = zeros(cpu, r, c);
                    REF.softmaxRows(on(REF, x, r, c), e, log);
                    cpu.softmaxRows(on(cpu, x, r, c), a, log);
                    close(e, a, 1e-5, "softmaxRows log=" + log + " " + what);
                }
                Strided eo = zeros(REF, r, c), ao = zeros(cpu, r, c), em = zeros(REF, r), am = zeros(cpu, r);
                Strided er = zeros(REF, r), ar = zeros(cpu, r);
                REF.layerNormRows(on(REF, x, r, c), on(REF, w, c), on(REF, b, c), 1e-5, eo, em, er);
                cpu.layerNormRows(on(cpu, x, r, c), on(cpu, w, c), on(cpu, b, c), 1e-5, ao, am, ar);
                close(eo, ao, 1e-4, "layerNormRows " + what);
                close(er, ar, 1e-4, "layerNormRows rstd " + what);
                Strided egx = zeros(REF, r, c), agx = zeros(cpu, r, c), egw = zeros(REF, c), agw = zeros(cpu, c);
                Strided egb = zeros(REF, c), agb = zeros(cpu, c);
                REF.layerNormBackwardRows(on(REF, g, r, c), on(REF, x, r, c), on(REF, w, c), em, er, egx, egw, egb);
                cpu.layerNormBackwardRows(on(cpu, g, r, c), on(cpu, x, r, c), on(cpu, w, c), am, ar, agx, agw, agb);
                close(egx, agx, 1e-3, "layerNormBackwardRows gx " + what);
                close(egw, agw, 1e-4, "layerNormBackwardRows gw " + what);
                close(egb, agb, 1e-5, "layerNormBackwardRows gb " + what);
                int[] t = new int[r];
                float[] keep = new float[r];
                for (int i = 0; i < r; i++) {
                    t[i] = rng.nextInt(c);
                    keep[i] = i % 3 == 1 ? 0 : 1;
                }
                for (boolean masked : new boolean[]{false, true}) {
                    Strided ek = masked ? on(REF, keep, r) : null, ak = masked ? on(cpu, keep, r) : null;
                    Strided el = zeros(REF, r), al = zeros(cpu, r), es = zeros(REF, r), as = zeros(cpu, r);
                    REF.crossEntropyRows(on(REF, x, r, c), ints(REF, t, r), ek, el, es);
                    cpu.crossEntropyRows(on(cpu, x, r, c), ints(cpu, t, r), ak, al, as);
                    close(el, al, 1e-5, "crossEntropyRows " + what);
                    close(es, as, 1e-5, "crossEntropyRows lse " + what);
                    float[] gl = random(rng, r, 1);
                    Strided eg = zeros(REF, r, c), ag = zeros(cpu, r, c);
                    REF.crossEntropyBackwardRows(on(REF, x, r, c), es, ints(REF, t, r), ek, on(REF, gl, r), eg);
                    cpu.crossEntropyBackwardRows(on(cpu, x, r, c), as, ints(cpu, t, r), ak, on(cpu, gl, r), ag);
                    close(eg, ag, 1e-5, "crossEntropyBackwardRows " + what);
                }
                Strided ed = zeros(REF, r, c), ad = zeros(cpu, r, c);
                REF.geluTanhBackward(on(REF, x, r, c), on(REF, g, r, c), ed);
                cpu.geluTanhBackward(on(cpu, x, r, c), on(cpu, g, r, c), ad);
                close(ed, ad, 1e-5, "geluTanhBackward " + what);
                for (boolean decoupled : new boolean[]{false, true}) {
                    float[] m = random(rng, r * c, 0.1), v = random(rng, r * c, 0.1);
                    for (int i = 0; i < v.length; i++) v[i] = Math.abs(v[i]);
                    Strided ep = on(REF, x, r, c), ap = on(cpu, x, r, c), em2 = on(REF, m, r, c), am2 = on(cpu, m, r, c);
                    Strided ev = on(REF, v, r, c), av = on(cpu, v, r, c);
                    REF.adamStep(ep, on(REF, g, r, c), em2, ev, 3, 1e-2, 0.9, 0.999, 1e-8, 0.1, decoupled);
                    cpu.adamStep(ap, on(cpu, g, r, c), am2, av, 3, 1e-2, 0.9, 0.999, 1e-8, 0.1, decoupled);
                    close(ep, ap, 1e-6, "adamStep param " + what);
                    close(em2, am2, 1e-6, "adamStep m " + what);
                    close(ev, av, 1e-6, "adamStep v " + what);
                }
            }
            for (int[] s : new int[][]{{1, 1, 1, 1}, {3, 5, 5, 16}, {2, 7, 7, 17}, {1, 3, 9, 64}, {12, 1, 13, 64}}) {
                int bh = s[0], t = s[1], keys = s[2], d = s[3];
                for (boolean causal : new boolean[]{false, true}) {
                    String what = java.util.Arrays.toString(s) + " causal " + causal + " " + cpu.describe();
                    float[] q = random(rng, bh * t * d, 1), k = random(rng, bh * keys * d, 1), v = random(rng, bh * keys * d, 1);
                    float[] go = random(rng, bh * t * d, 1);
                    double scale = 1 / Math.sqrt(d);
                    Strided eo = zeros(REF, bh, t, d), ao = zeros(cpu, bh, t, d), el = zeros(REF, bh, t), al = zeros(cpu, bh, t);
                    REF.attention(on(REF, q, bh, t, d), on(REF, k, bh, keys, d), on(REF, v, bh, keys, d), scale, causal, eo, el);
                    cpu.attention(on(cpu, q, bh, t, d), on(cpu, k, bh, keys, d), on(cpu, v, bh, keys, d), scale, causal, ao, al);
                    close(eo, ao, 1e-5, "attention " + what);
                    close(el, al, 1e-5, "attention lse " + what);
                    Strided[] e = {zeros(REF, bh, t, d), zeros(REF, bh, keys, d), zeros(REF, bh, keys, d)};
                    Strided[] a = {zeros(cpu, bh, t, d), zeros(cpu, bh, keys, d), zeros(cpu, bh, keys, d)};
                    REF.attentionBackward(on(REF, q, bh, t, d), on(REF, k, bh, keys, d), on(REF, v, bh, keys, d), scale, causal,
                            el, on(REF, go, bh, t, d), e[0], e[1], e[2]);
                    cpu.attentionBackward(on(cpu, q, bh, t, d), on(cpu, k, bh, keys, d), on(cpu, v, bh, keys, d), scale, causal,
                            al, on(cpu, go, bh, t, d), a[0], a[1], a[2]);
                    for (int i = 0; i < 3; i++) close(e[i], a[i], 1e-4, "attentionBackward grad " + "qkv".charAt(i) + " " + what);
                }
            }
        }
    }
}
