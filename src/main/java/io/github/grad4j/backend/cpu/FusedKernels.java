package io.github.grad4j.backend.cpu;

import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.backend.reference.ReferenceBackend;

import java.util.Arrays;

/**
 * The float32 loops behind the cpu backend's fused kernels (softmax rows, layer norm, cross-entropy,
 * attention, Adam, GELU backward) on arrays and offsets; {@link CpuBackend} checks layouts and
 * falls back to the composite defaults of {@code Backend} for anything else. Work is split over
 * rows (or columns for sums over rows), never within one reduction, so results do not depend on
 * the thread count.
 */
final class FusedKernels {
    private static final int GRAIN = 1 << 15;
    /** Per-thread gradient segments of one channel (the ReLU-fused backwards). */
    private final ThreadLocal<float[]> channelPlanes = ThreadLocal.withInitial(() -> new float[0]);
    private final Kernels k;
    private final Parallel parallel;

    FusedKernels(Kernels kernels, Parallel parallel) {
        this.k = kernels;
        this.parallel = parallel;
    }

    private static int rowGrain(int len) {
        return Math.max(1, GRAIN / Math.max(1, len));
    }

    /** Softmax or log-softmax of rows: x row r at xo + r*xs, out row r at oo + r*os. */
    void softmaxRows(float[] x, int xo, int xs, float[] out, int oo, int os, int rows, int c, boolean log) {
        parallel.forRange(rows, rowGrain(c), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xi = xo + r * xs, oi = oo + r * os;
                float max = k.reduce(ReduceOp.MAX, x, xi, c);
                float sum = k.expShiftSum(x, xi, max, out, oi, c);
                if (log) {
                    float shift = max + (float) Math.log(sum);
                    for (int j = 0; j < c; j++) out[oi + j] = x[xi + j] - shift;
                } else {
                    for (int j = 0; j < c; j++) out[oi + j] = out[oi + j] / sum;
                }
            }
        });
    }

    /** Layer norm of contiguous rows [rows, c]; w and b may be null. */
    void layerNorm(float[] x, int xo, float[] w, int wo, float[] b, int bo, float eps, float[] out, int oo,
                   float[] mean, int mo, float[] rstd, int ro, int rows, int c) {
        parallel.forRange(rows, rowGrain(c), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xi = xo + r * c, oi = oo + r * c;
                float m = k.reduce(ReduceOp.SUM, x, xi, c) / c;
                for (int j = 0; j < c; j++) out[oi + j] = x[xi + j] - m;
                float var = k.dot(out, oi, out, oi, c) / c;
                float rs = 1f / (float) Math.sqrt(var + eps);
                mean[mo + r] = m;
                rstd[ro + r] = rs;
                if (w != null && b != null) {
                    for (int j = 0; j < c; j++) out[oi + j] = out[oi + j] * rs * w[wo + j] + b[bo + j];
                } else {
                    for (int j = 0; j < c; j++) out[oi + j] = out[oi + j] * rs;
                    if (w != null) for (int j = 0; j < c; j++) out[oi + j] *= w[wo + j];
                    if (b != null) for (int j = 0; j < c; j++) out[oi + j] += b[bo + j];
                }
            }
        });
    }

    /** Backward of layerNorm on contiguous rows; gx, gw, gb may be null (then skipped). */
    void layerNormBackward(float[] g, int go, float[] x, int xo, float[] w, int wo, float[] mean, int mo,
                           float[] rstd, int ro, float[] gx, int gxo, float[] gw, int gwo, float[] gb, int gbo,
                           int rows, int c) {
        if (gx != null) {
            parallel.forRange(rows, rowGrain(c), (r0, r1) -> {
                float[] xhat = new float[c], gh = new float[c];
                for (int r = r0; r < r1; r++) {
                    int xi = xo + r * c, gi = go + r * c, oi = gxo + r * c;
                    float m = mean[mo + r], rs = rstd[ro + r];
                    for (int j = 0; j < c; j++) xhat[j] = (x[xi + j] - m) * rs;
                    if (w != null) for (int j = 0; j < c; j++) gh[j] = g[gi + j] * w[wo + j];
                    else System.arraycopy(g, gi, gh, 0, c);
                    float a = k.reduce(ReduceOp.SUM, gh, 0, c) / c;
                    float bb = k.dot(gh, 0, xhat, 0, c) / c;
                    for (int j = 0; j < c; j++) gx[oi + j] = rs * (gh[j] - a - xhat[j] * bb);
                }
            });
        }
        if (gw == null && gb == null) return;
        // sums over rows: each task owns a block of columns and walks all rows in order
        parallel.forRange(c, Math.max(16, GRAIN / Math.max(1, rows)), (c0, c1) -> {
            int n = c1 - c0;
            float[] sw = new float[n], sb = new float[n];
            for (int r = 0; r < rows; r++) {
                int xi = xo + r * c + c0, gi = go + r * c + c0;
                float m = mean[mo + r], rs = rstd[ro + r];
                for (int j = 0; j < n; j++) {
                    float gj = g[gi + j];
                    sw[j] += gj * ((x[xi + j] - m) * rs);
                    sb[j] += gj;
                }
            }
            if (gw != null) System.arraycopy(sw, 0, gw, gwo + c0, n);
            if (gb != null) System.arraycopy(sb, 0, gb, gbo + c0, n);
        });
    }

    /**
     * Batch norm of contiguous x [n, c, s] per channel (statistics over n and s); w and b may be
     * null; with {@code relu} each output segment is rectified while it is in cache. Tasks own
     * whole channels and walk their n segments in order, so the sums (float per segment, double
     * across segments) do not depend on the thread count.
     */
    void batchNorm(float[] x, int xo, float[] w, int wo, float[] b, int bo, float eps, boolean relu, float[] out, int oo,
                   float[] mean, int mo, float[] var, int vo, float[] rstd, int ro, int n, int c, int s) {
        parallel.forRange(c, channelGrain(n, s), (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                statistics(x, xo, n, c, s, ch, eps, mean, mo, var, vo, rstd, ro);
                float m = mean[mo + ch], rs = rstd[ro + ch];
                float scale = w == null ? rs : rs * w[wo + ch];
                float offset = b == null ? 0f : b[bo + ch];
                for (int i = 0; i < n; i++) {
                    int row = oo + (i * c + ch) * s;
                    k.affineCentered(x, xo + (i * c + ch) * s, m, scale, null, 0, 0f, offset, out, row, s);
                    if (relu) unary(UnaryOp.RELU, out, row, out, row, s);
                }
            }
        });
    }

    /** out[ch] = sum over i, j of u[i, ch, j] v[i, ch, j] (v null: of u) on contiguous [n, c, s]; one task per channel. */
    void channelSums(float[] u, int uo, float[] v, int vo, float[] out, int oo, int n, int c, int s) {
        parallel.forRange(c, channelGrain(n, s), (c0, c1) -> {
            for (int ch = c0; ch < c1; ch++) {
                double sum = 0; // float lanes within a row, double across rows
                for (int i = 0; i < n; i++) {
                    int row = (i * c + ch) * s;
                    sum += v == null ? k.reduce(ReduceOp.SUM, u, uo + row, s) : k.dot(u, uo + row, v, vo + row, s);
                }
                out[oo + ch] = (float) sum;
            }
        });
    }

    /**
     * out = a[ch] u + b[ch] v + shift[ch] on contiguous [n, c, s] (a null: 1; v, b null: no second
     * term; shift null: 0), one task per block of (i, ch) rows.
     */
    void channelCombine(float[] u, int uo, float[] a, int ao, float[] v, int vo, float[] b, int bo, float[] shift, int so,
                        float[] out, int oo, int n, int c, int s) {
        parallel.forRange(n * c, Math.max(1, GRAIN / Math.max(1, s)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int ch = r % c, row = r * s;
                float scaleU = a == null ? 1f : a[ao + ch];
                float add = shift == null ? 0f : shift[so + ch];
                int ui = uo + row, oi = oo + row;
                if (v == null) {
                    for (int j = 0; j < s; j++) out[oi + j] = scaleU * u[ui + j] + add;
                } else {
                    float scaleV = b[bo + ch];
                    int vi = vo + row;
                    for (int j = 0; j < s; j++) out[oi + j] = scaleU * u[ui + j] + scaleV * v[vi + j] + add;
                }
            }
        });
    }

    /**
     * Backward of batchNorm on contiguous [n, c, s]; gx, gw, gb may be null. Per channel, with
     * xc = x - mean: gb = sum g, gw = rstd sum g xc, and
     * gx = rstd w g - rstd w sum(g) / count - w rstd^3 sum(g xc) / count * xc.
     * With y (the output of a batch norm followed by a ReLU; null for none), g is taken where
     * y &gt; 0 and 0 elsewhere, masked once per segment into a per-thread buffer of the channel's
     * segments that stays in L2 for both passes.
     */
    void batchNormBackward(float[] g, int go, float[] y, int yo, float[] x, int xo, float[] w, int wo, float[] mean, int mo,
                           float[] rstd, int ro, float[] gx, int gxo, float[] gw, int gwo, float[] gb, int gbo,
                           int n, int c, int s) {
        parallel.forRange(c, channelGrain(n, s), (c0, c1) -> {
            float[] segments = y == null ? null : ConvKernels.buffer(channelPlanes, n * s);
            for (int ch = c0; ch < c1; ch++) {
                if (y == null) {
                    channelBackward(g, go + ch * s, c * s, x, xo, w, wo, mean, mo, rstd, ro, gx, gxo, gw, gwo, gb, gbo, n, c, s, ch);
                    continue;
                }
                for (int i = 0; i < n; i++) reluBackward(g, go + (i * c + ch) * s, y, yo + (i * c + ch) * s, segments, i * s, s);
                channelBackward(segments, 0, s, x, xo, w, wo, mean, mo, rstd, ro, gx, gxo, gw, gwo, gb, gbo, n, c, s, ch);
            }
        });
    }

    /**
     * Batch norm's backward for channel ch of [n, c, s], given its incoming gradient segments at
     * gs[gBase + i*gStride .. + s) for i &lt; n (g itself, or segments rebuilt by a fused
     * ReLU or pooling): the two sums in segment order, then gx segment by segment.
     */
    private void channelBackward(float[] gs, int gBase, int gStride, float[] x, int xo, float[] w, int wo,
                                 float[] mean, int mo, float[] rstd, int ro, float[] gx, int gxo, float[] gw, int gwo,
                                 float[] gb, int gbo, int n, int c, int s, int ch) {
        double count = (double) n * s;
        float m = mean[mo + ch], rs = rstd[ro + ch];
        double sumG = 0, sumGx = 0;
        for (int i = 0; i < n; i++) {
            sumG += k.reduce(ReduceOp.SUM, gs, gBase + i * gStride, s);
            sumGx += k.centeredDot(gs, gBase + i * gStride, x, xo + (i * c + ch) * s, m, s);
        }
        if (gb != null) gb[gbo + ch] = (float) sumG;
        if (gw != null) gw[gwo + ch] = (float) (sumGx * rs);
        if (gx == null) return;
        float wc = w == null ? 1f : w[wo + ch];
        float a = rs * wc;
        float bx = (float) (-wc * (double) rs * rs * rs * sumGx / count);
        float cst = (float) (-rs * wc * sumG / count);
        for (int i = 0; i < n; i++) {
            int row = (i * c + ch) * s;
            k.affineCentered(x, xo + row, m, bx, gs, gBase + i * gStride, a, cst, gx, gxo + row, s);
        }
    }

    /**
     * Batch norm + ReLU + 2x2 stride-2 max pooling of contiguous x [n, c, h, w] per channel: the
     * statistics as {@link #batchNorm}, then each plane is normalized and rectified into a scratch
     * plane that stays in L1 and pooled from there (the same loops as the three ops one after the
     * other, so the same bits), writing only the pooled values and their positions.
     */
    void batchNormReluPool(float[] x, int xo, float[] w, int wo, float[] b, int bo, float eps, float[] out, int oo,
                           int[] idx, int io, float[] mean, int mo, float[] var, int vo, float[] rstd, int ro,
                           int n, int c, int h, int wd) {
        int s = h * wd, oh = h / 2, ow = wd / 2, outs = oh * ow;
        int[] topLeft = topLeft(wd, oh, ow);
        parallel.forRange(c, channelGrain(n, s), (c0, c1) -> {
            float[] plane = new float[s];
            for (int ch = c0; ch < c1; ch++) {
                statistics(x, xo, n, c, s, ch, eps, mean, mo, var, vo, rstd, ro);
                float m = mean[mo + ch], rs = rstd[ro + ch];
                float scale = w == null ? rs : rs * w[wo + ch];
                float offset = b == null ? 0f : b[bo + ch];
                for (int i = 0; i < n; i++) {
                    k.affineCentered(x, xo + (i * c + ch) * s, m, scale, null, 0, 0f, offset, plane, 0, s);
                    unary(UnaryOp.RELU, plane, 0, plane, 0, s);
                    k.maxPool2x2(plane, 0, wd, topLeft, out, oo + (i * c + ch) * outs, idx, io + (i * c + ch) * outs);
                }
            }
        });
    }

    /**
     * Channel ch's mean, biased variance and 1/sqrt(var + eps) over its n segments of s in x
     * [n, c, s], written to mean, var and rstd, in one pass over the activations: each segment's
     * sum and its squares about its own mean (a second read of the segment, from L1), combined by
     * {@link #combineStatistics}.
     */
    private void statistics(float[] x, int xo, int n, int c, int s, int ch, float eps,
                            float[] mean, int mo, float[] var, int vo, float[] rstd, int ro) {
        float[] sums = new float[n], squares = new float[n];
        for (int i = 0; i < n; i++) {
            int at = xo + (i * c + ch) * s;
            sums[i] = k.reduce(ReduceOp.SUM, x, at, s);
            squares[i] = k.centeredDot(null, 0, x, at, segmentCentre(sums[i], s), s);
        }
        combineStatistics(sums, squares, 0, 1, n, s, eps, mean, mo + ch, var, vo + ch, rstd, ro + ch);
    }

    /** The centre of a segment's squares in {@link #statistics}: its sum over its length, in float. */
    static float segmentCentre(float sum, int s) {
        return sum / s;
    }

    /**
     * A channel's mean, biased variance and rstd (written at mean[m], var[v], rstd[r]) from its n
     * segments of s values: segment i's float lane sum at sums[at + i*stride] and its squares about
     * its own centre ({@link #segmentCentre}) at squares[at + i*stride]. In double, in segment order:
     * mean = sum of the sums / (n s); the squares about the mean are each segment's squares
     * corrected for the distance between its centre and the mean (Chan, Golub and LeVeque's
     * pairwise update), so nothing cancels for values far from zero, as with two passes about the
     * mean, while the activations are read once.
     */
    static void combineStatistics(float[] sums, float[] squares, int at, int stride, int n, int s, float eps,
                                  float[] mean, int m, float[] var, int v, float[] rstd, int r) {
        double count = (double) n * s, total = 0;
        for (int i = 0; i < n; i++) total += sums[at + i * stride];
        double mu = total / count, m2 = 0;
        for (int i = 0; i < n; i++) {
            float si = sums[at + i * stride], centre = segmentCentre(si, s);
            // sum (x - mu)^2 = sum (x - centre)^2 - 2 (mu - centre) sum (x - centre) + s (mu - centre)^2
            double d = mu - centre;
            m2 += squares[at + i * stride] - 2 * d * (si - (double) s * centre) + s * d * d;
        }
        float variance = (float) Math.max(0, m2 / count);
        mean[m] = (float) mu;
        var[v] = variance;
        rstd[r] = 1f / (float) Math.sqrt(variance + eps);
    }

    /**
     * The backward of {@link #batchNormReluPool}: each plane's incoming gradient is rebuilt in a
     * per-thread buffer holding the channel's planes (g at the window maxima whose pooled value is
     * &gt; 0, zero elsewhere: what max pooling's scatter and ReLU's mask write; 313 KB for a
     * channel of 100 28x28 planes, so it stays in L2 for the second pass) and batch norm's
     * backward runs on it as in {@link #batchNormBackward}; the full-size gradient before batch
     * norm is never an array of the batch.
     */
    void batchNormReluPoolBackward(float[] g, int go, float[] out, int oo, int[] idx, int io, float[] x, int xo,
                                   float[] w, int wo, float[] mean, int mo, float[] rstd, int ro,
                                   float[] gx, int gxo, float[] gw, int gwo, float[] gb, int gbo, int n, int c, int h, int wd) {
        int s = h * wd, outs = (h / 2) * (wd / 2);
        parallel.forRange(c, channelGrain(n, s), (c0, c1) -> {
            float[] planes = ConvKernels.buffer(channelPlanes, n * s), masked = new float[outs];
            for (int ch = c0; ch < c1; ch++) {
                for (int i = 0; i < n; i++) {
                    int pooled = (i * c + ch) * outs;
                    unpool(g, go + pooled, out, oo + pooled, idx, io + pooled, outs, masked, planes, i * s, s);
                }
                channelBackward(planes, 0, s, x, xo, w, wo, mean, mo, rstd, ro, gx, gxo, gw, gwo, gb, gbo, n, c, s, ch);
            }
        });
    }

    /** Plane-relative top-left corners of the 2x2 windows of a plane w wide with oh x ow windows. */
    static int[] topLeft(int w, int oh, int ow) {
        int[] topLeft = new int[oh * ow];
        for (int q = 0; q < topLeft.length; q++) topLeft[q] = 2 * (q / ow) * w + 2 * (q % ow);
        return topLeft;
    }

    /**
     * plane (s floats at po) = zeros with 0 + g[q] at idx[q] where out[q] &gt; 0 (what scattering
     * into zeros and then ReLU's mask give). The mask is applied to the pooled row by the kernels'
     * loop first and the scatter is unconditional: a branch on the sign of each pooled value
     * mispredicts half the time.
     */
    void unpool(float[] g, int go, float[] out, int oo, int[] idx, int io, int outs, float[] masked,
                float[] plane, int po, int s) {
        reluBackward(g, go, out, oo, masked, 0, outs);
        Arrays.fill(plane, po, po + s, 0f);
        for (int q = 0; q < outs; q++) plane[po + idx[io + q]] = 0f + masked[q];
    }

    /**
     * Channels per task for per-channel loops over n segments of s: each segment costs a few
     * kernel calls besides its s elements, counted here as {@value #SEGMENT_COST} elements, so that
     * small planes (3x3: n*s = 900 for 100 images) still split over the threads.
     */
    private static int channelGrain(int n, int s) {
        return Math.max(1, GRAIN / Math.max(1, n * (s + SEGMENT_COST)));
    }

    private static final int SEGMENT_COST = 64;

    /** out[oo .. oo+n) = op(x) through the kernels' loop, or the reference's rule where they have none (as CpuBackend). */
    void unary(UnaryOp op, float[] x, int xo, float[] out, int oo, int n) {
        if (!k.unary(op, x, xo, out, oo, n, 0f, 0f)) {
            for (int i = 0; i < n; i++) out[oo + i] = (float) ReferenceBackend.unary(op, x[xo + i], 0, 0);
        }
    }

    /** out[oo .. oo+n) = g where y &gt; 0, else 0 (ReLU's backward rule, as the backends' RELU_BACKWARD). */
    private void reluBackward(float[] g, int go, float[] y, int yo, float[] out, int oo, int n) {
        if (!k.binary(BinaryOp.RELU_BACKWARD, g, go, 1, y, yo, 1, out, oo, n)) {
            for (int i = 0; i < n; i++) out[oo + i] = ScalarKernels.binary(BinaryOp.RELU_BACKWARD, g[go + i], y[yo + i]);
        }
    }

    /** Per-row cross-entropy of contiguous logits [rows, v], times keep[i] (null: 1). */
    void crossEntropy(float[] x, int xo, int[] t, int to, float[] keep, int ko, float[] loss, int lo, float[] lse, int so,
                      int rows, int v) {
        parallel.forRange(rows, rowGrain(v), (r0, r1) -> {
            float[] scratch = new float[v];
            for (int r = r0; r < r1; r++) {
                int xi = xo + r * v;
                float max = k.reduce(ReduceOp.MAX, x, xi, v);
                float shift = Float.isInfinite(max) ? 0f : max;
                float l = shift + (float) Math.log(k.expShiftSum(x, xi, shift, scratch, 0, v));
                lse[so + r] = l;
                int target = t[to + r];
                float kept = keep == null ? 1f : keep[ko + r];
                loss[lo + r] = kept == 0 ? 0f : (l - x[xi + target]) * kept;
            }
        });
    }

    /** gradLogits = g keep (softmax - onehot) per row (keep null: 1). */
    void crossEntropyBackward(float[] x, int xo, float[] lse, int so, int[] t, int to, float[] keep, int ko,
                              float[] g, int go, float[] out, int oo, int rows, int v) {
        parallel.forRange(rows, rowGrain(v), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int xi = xo + r * v, oi = oo + r * v;
                int target = t[to + r];
                float gr = g[go + r] * (keep == null ? 1f : keep[ko + r]);
                if (gr == 0) {
                    Arrays.fill(out, oi, oi + v, 0f);
                    continue;
                }
                k.expShiftSum(x, xi, lse[so + r], out, oi, v);
                for (int j = 0; j < v; j++) out[oi + j] *= gr;
                out[oi + target] -= gr;
            }
        });
    }

    /**
     * Attention over batches of matrices with unit inner stride: for batch b, q row i at
     * q[qb[b] + i*qs], k row j at k[kb[b] + j*ks], and so on. Each batch is one task.
     */
    void attention(float[] q, int[] qb, int qs, float[] kk, int[] kb, int ks, float[] v, int[] vb, int vs,
                   float[] out, int[] ob, int os, float[] lse, int lo, int t, int s, int d, int dv,
                   float scale, boolean causal) {
        int batches = qb.length;
        parallel.forRange(batches, Math.max(1, GRAIN / Math.max(1, t * s * (d + dv))), (b0, b1) -> {
            float[] p = new float[s];
            for (int b = b0; b < b1; b++) {
                for (int i = 0; i < t; i++) {
                    int lim = causal ? s - t + i + 1 : s;
                    int qi = qb[b] + i * qs;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < lim; j++) {
                        float sc = k.dot(q, qi, kk, kb[b] + j * ks, d) * scale;
                        p[j] = sc;
                        if (sc > max) max = sc;
                    }
                    float shift = Float.isInfinite(max) ? 0f : max;
                    float sum = k.expShiftSum(p, 0, shift, p, 0, lim);
                    lse[lo + b * t + i] = shift + (float) Math.log(sum);
                    int oi = ob[b] + i * os;
                    Arrays.fill(out, oi, oi + dv, 0f);
                    float inv = 1f / sum;
                    for (int j = 0; j < lim; j++) k.axpy(p[j] * inv, v, vb[b] + j * vs, out, oi, dv);
                }
            }
        });
    }

    /** Backward of {@link #attention}; gq, gk, gv are overwritten. */
    void attentionBackward(float[] q, int[] qb, int qs, float[] kk, int[] kb, int ks, float[] v, int[] vb, int vs,
                           float[] lse, int lo, float[] g, int[] gb, int gs,
                           float[] gq, int[] gqb, int gqs, float[] gk, int[] gkb, int gks, float[] gv, int[] gvb, int gvs,
                           int t, int s, int d, int dv, float scale, boolean causal) {
        int batches = qb.length;
        parallel.forRange(batches, Math.max(1, GRAIN / Math.max(1, 2 * t * s * (d + dv))), (b0, b1) -> {
            float[] p = new float[s], dp = new float[s];
            for (int b = b0; b < b1; b++) {
                for (int j = 0; j < s; j++) {
                    Arrays.fill(gk, gkb[b] + j * gks, gkb[b] + j * gks + d, 0f);
                    Arrays.fill(gv, gvb[b] + j * gvs, gvb[b] + j * gvs + dv, 0f);
                }
                for (int i = 0; i < t; i++) {
                    int lim = causal ? s - t + i + 1 : s;
                    int qi = qb[b] + i * qs, gi = gb[b] + i * gs, gqi = gqb[b] + i * gqs;
                    float l = lse[lo + b * t + i];
                    float dsum = 0;
                    for (int j = 0; j < lim; j++) {
                        float pj = (float) Math.exp(k.dot(q, qi, kk, kb[b] + j * ks, d) * scale - l);
                        p[j] = pj;
                        float dpj = k.dot(g, gi, v, vb[b] + j * vs, dv);
                        dp[j] = dpj;
                        dsum += pj * dpj;
                    }
                    Arrays.fill(gq, gqi, gqi + d, 0f);
                    for (int j = 0; j < lim; j++) {
                        float ds = p[j] * (dp[j] - dsum) * scale;
                        k.axpy(ds, kk, kb[b] + j * ks, gq, gqi, d);
                        k.axpy(ds, q, qi, gk, gkb[b] + j * gks, d);
                        k.axpy(p[j], g, gi, gv, gvb[b] + j * gvs, dv);
                    }
                }
            }
        });
    }

    void adam(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
              float beta1, float beta2, float l2, float decay, float bc2Sqrt, float eps, float stepSize) {
        parallel.forRange(n, GRAIN, (a, e) ->
                k.adam(p, po + a, g, go + a, m, mo + a, v, vo + a, e - a, beta1, beta2, l2, decay, bc2Sqrt, eps, stepSize));
    }

    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_K = 0.044715f;

    /**
     * out = g * gelu'(x), contiguous. With s = sigmoid(2u), u = c (x + k x^3): 0.5 (1 + tanh u) = s
     * and 0.5 x (1 - tanh^2 u) = 2 x s (1 - s), which avoids cancelling in 1 + tanh for x &lt; 0.
     */
    void geluBackward(float[] x, int xo, float[] g, int go, float[] out, int oo, int n) {
        parallel.forRange(n, GRAIN, (a, e) -> {
            int len = e - a;
            float[] s = new float[len];
            for (int i = 0; i < len; i++) {
                float xi = x[xo + a + i];
                s[i] = 2 * GELU_C * (xi + GELU_K * xi * xi * xi);
            }
            if (!k.unary(UnaryOp.SIGMOID, s, 0, s, 0, len, 0, 0)) {
                for (int i = 0; i < len; i++) s[i] = (float) (1 / (1 + Math.exp(-s[i])));
            }
            for (int i = 0; i < len; i++) {
                float xi = x[xo + a + i], si = s[i];
                float dInner = GELU_C * (1f + 3f * GELU_K * xi * xi);
                out[oo + a + i] = g[go + a + i] * (si + 2f * xi * si * (1f - si) * dInner);
            }
        });
    }
}
