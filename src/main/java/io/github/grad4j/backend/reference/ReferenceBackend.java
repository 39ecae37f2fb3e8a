package io.github.grad4j.backend.reference;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.HeapStorage;
import io.github.grad4j.backend.ReduceOp;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.backend.UnaryOp;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.decomposition.lu.LUDecompositionAlt_DDRM;
import org.ejml.dense.row.linsol.lu.LinearSolverLu_DDRM;

import java.util.Arrays;

/**
 * The specification backend: every kernel gathers its inputs into plain double arrays, computes
 * with obvious loops in float64, and writes the result through the output's strides. It is the
 * specification, not the fast path: every optimized backend is tested against it.
 */
public class ReferenceBackend implements Backend {

    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    protected ReferenceBackend() {
    }

    @Override
    public String name() {
        return "reference";
    }

    // ---------------------------------------------------------------- storage

    @Override
    public Storage allocate(DType dtype, int size) {
        return new HeapStorage(this, dtype, size);
    }

    @Override
    public Storage upload(double[] data, DType dtype) {
        HeapStorage s = new HeapStorage(this, dtype, data.length);
        for (int i = 0; i < data.length; i++) s.set(i, data[i]);
        return s;
    }

    @Override
    public Storage upload(float[] data) {
        return HeapStorage.wrap(this, data.clone());
    }

    @Override
    public Storage upload(int[] data) {
        return HeapStorage.wrap(this, data.clone());
    }

    @Override
    public double[] download(Strided v) {
        return read(v);
    }

    @Override
    public float[] downloadFloats(Strided v) {
        double[] d = read(v);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    /** The elements of a view in row-major order. */
    protected static double[] read(Strided v) {
        int n = v.numel();
        double[] out = new double[n];
        Storage s = v.storage();
        int rank = v.rank();
        if (rank == 0) {
            if (n == 1) out[0] = s.get(v.offset());
            return out;
        }
        int[] shape = v.shape();
        int[] strides = v.strides();
        int[] pos = new int[rank];
        int idx = v.offset();
        for (int i = 0; i < n; i++) {
            out[i] = s.get(idx);
            // odometer step over the view's indices
            for (int d = rank - 1; d >= 0; d--) {
                pos[d]++;
                idx += strides[d];
                if (pos[d] < shape[d]) break;
                idx -= strides[d] * shape[d];
                pos[d] = 0;
            }
        }
        return out;
    }

    /** Writes values (row-major) through the view's strides. */
    protected static void write(Strided v, double[] values) {
        Storage s = v.storage();
        int n = v.numel();
        int rank = v.rank();
        if (rank == 0) {
            if (n == 1) s.set(v.offset(), values[0]);
            return;
        }
        int[] shape = v.shape();
        int[] strides = v.strides();
        int[] pos = new int[rank];
        int idx = v.offset();
        for (int i = 0; i < n; i++) {
            s.set(idx, values[i]);
            for (int d = rank - 1; d >= 0; d--) {
                pos[d]++;
                idx += strides[d];
                if (pos[d] < shape[d]) break;
                idx -= strides[d] * shape[d];
                pos[d] = 0;
            }
        }
    }

    private static int[] readInts(Strided v) {
        double[] d = read(v);
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
        return out;
    }

    // ---------------------------------------------------------------- elementwise

    @Override
    public void copy(Strided src, Strided dst) {
        double[] v = read(src);
        if (dst.storage().dtype() == DType.INT32) {
            for (int i = 0; i < v.length; i++) v[i] = (int) v[i];
        }
        write(dst, v);
    }

    @Override
    public void unary(UnaryOp op, Strided x, Strided out, double a, double b) {
        double[] v = read(x);
        for (int i = 0; i < v.length; i++) v[i] = unary(op, v[i], a, b);
        write(out, v);
    }

    /** The scalar definition of each unary op. Optimized backends must agree with it. */
    public static double unary(UnaryOp op, double x, double a, double b) {
        switch (op) {
            case NEG: return -x;
            case EXP: return Math.exp(x);
            case LOG: return Math.log(x);
            case SQRT: return Math.sqrt(x);
            case ABS: return Math.abs(x);
            case TANH: return Math.tanh(x);
            case SIGMOID: return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
            case SOFTPLUS: return Math.max(x, 0.0) + Math.log1p(Math.exp(-Math.abs(x)));
            case RELU: return x > 0 ? x : 0.0;
            case STEP: return x > 0 ? 1.0 : 0.0;
            case SIGN: return Math.signum(x);
            case GELU_TANH: {
                double inner = Math.sqrt(2.0 / Math.PI) * (x + 0.044715 * x * x * x);
                return 0.5 * x * (1.0 + Math.tanh(inner));
            }
            case POW_SCALAR: return Math.pow(x, a);
            case CLAMP: return Math.min(Math.max(x, a), b);
            case INSIDE: return (x >= a && x <= b) ? 1.0 : 0.0;
            case ROUND: return Math.rint(x);
            case FLOOR: return Math.floor(x);
            case FILL: return a;
            default: throw new IllegalArgumentException("unknown unary op " + op);
        }
    }

    @Override
    public void binary(BinaryOp op, Strided x, Strided y, Strided out) {
        double[] u = read(x);
        double[] v = read(y);
        for (int i = 0; i < u.length; i++) u[i] = binary(op, u[i], v[i]);
        write(out, u);
    }

    /** The scalar definition of each binary op. */
    public static double binary(BinaryOp op, double x, double y) {
        switch (op) {
            case ADD: return x + y;
            case SUB: return x - y;
            case MUL: return x * y;
            case DIV: return x / y;
            case POW: return Math.pow(x, y);
            case MAX: return Math.max(x, y);
            case MIN: return Math.min(x, y);
            case GT: return x > y ? 1 : 0;
            case GE: return x >= y ? 1 : 0;
            case LT: return x < y ? 1 : 0;
            case LE: return x <= y ? 1 : 0;
            case EQ: return x == y ? 1 : 0;
            case NE: return x != y ? 1 : 0;
            case RELU_BACKWARD: return y > 0 ? x : 0;
            default: throw new IllegalArgumentException("unknown binary op " + op);
        }
    }

    @Override
    public void where(Strided cond, Strided x, Strided y, Strided out) {
        double[] c = read(cond);
        double[] u = read(x);
        double[] v = read(y);
        for (int i = 0; i < c.length; i++) u[i] = c[i] != 0 ? u[i] : v[i];
        write(out, u);
    }

    // ---------------------------------------------------------------- reductions

    @Override
    public void reduce(ReduceOp op, Strided x, boolean[] reduceAxis, Strided out, Strided indices) {
        int[] shape = x.shape();
        int rank = shape.length;
        double[] v = read(x);
        int outN = out.numel();
        double[] acc = new double[outN];
        int[] arg = new int[outN];
        boolean[] seen = new boolean[outN];
        int[] outShape = out.shape();
        int[] outStrides = Strided.rowMajorStrides(outShape);
        int singleAxis = -1;
        for (int d = 0; d < rank; d++) if (reduceAxis[d]) singleAxis = d;
        int[] pos = new int[rank];
        for (int i = 0; i < v.length; i++) {
            int o = 0;
            for (int d = 0; d < rank; d++) if (!reduceAxis[d]) o += pos[d] * outStrides[d];
            double e = v[i];
            switch (op) {
                case SUM:
                    acc[o] += e;
                    break;
                case MAX:
                    // NaN propagates, as in PyTorch
                    if (!seen[o] || e > acc[o] || Double.isNaN(e) && !Double.isNaN(acc[o])) {
                        acc[o] = e;
                        arg[o] = singleAxis >= 0 ? pos[singleAxis] : 0;
                    }
                    break;
                case MIN:
                    if (!seen[o] || e < acc[o] || Double.isNaN(e) && !Double.isNaN(acc[o])) {
                        acc[o] = e;
                        arg[o] = singleAxis >= 0 ? pos[singleAxis] : 0;
                    }
                    break;
                default:
                    throw new IllegalArgumentException("unknown reduce op " + op);
            }
            seen[o] = true;
            for (int d = rank - 1; d >= 0; d--) {
                if (++pos[d] < shape[d]) break;
                pos[d] = 0;
            }
        }
        write(out, acc);
        if (indices != null) {
            double[] a = new double[outN];
            for (int i = 0; i < outN; i++) a[i] = arg[i];
            write(indices, a);
        }
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public void matmul(Strided x, Strided y, Strided out) {
        int r = x.rank();
        int m = x.shape()[r - 2];
        int k = x.shape()[r - 1];
        int n = y.shape()[r - 1];
        double[] a = read(x);
        double[] b = read(y);
        if (m * n == 0) return;
        int batches = out.numel() / (m * n);
        double[] c = new double[out.numel()];
        double[] row = new double[n];
        for (int bi = 0; bi < batches; bi++) {
            int ao = bi * m * k;
            int bo = bi * k * n;
            int co = bi * m * n;
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0.0);
                for (int p = 0; p < k; p++) {
                    double aip = a[ao + i * k + p];
                    int brow = bo + p * n;
                    for (int j = 0; j < n; j++) row[j] += aip * b[brow + j];
                }
                System.arraycopy(row, 0, c, co + i * n, n);
            }
        }
        write(out, c);
    }

    @Override
    public void solve(Strided a, Strided b, Strided out) {
        int r = a.rank();
        int n = a.shape()[r - 1];
        int k = b.shape()[r - 1];
        double[] av = read(a);
        double[] bv = read(b);
        double[] xv = new double[out.numel()];
        int batches = n == 0 ? 0 : av.length / (n * n);
        for (int bi = 0; bi < batches; bi++) {
            DMatrixRMaj am = new DMatrixRMaj(n, n);
            System.arraycopy(av, bi * n * n, am.data, 0, n * n);
            DMatrixRMaj bm = new DMatrixRMaj(n, k);
            System.arraycopy(bv, bi * n * k, bm.data, 0, n * k);
            DMatrixRMaj xm = new DMatrixRMaj(n, k);
            double maxAbs = 0;
            for (double v : am.data) maxAbs = Math.max(maxAbs, Math.abs(v));
            LinearSolverLu_DDRM solver = new LinearSolverLu_DDRM(new LUDecompositionAlt_DDRM());
            if (!solver.setA(am)) {
                throw new ArithmeticException("solve: matrix " + bi + " of the batch is singular");
            }
            // Singular to working precision when a pivot vanishes relative to the matrix's scale.
            // (EJML's quality() is a determinant-like product that shrinks with n even for
            // well-conditioned matrices, e.g. I - 0.99 S at 100 nodes in TPN, so it is not used.)
            DMatrixRMaj lu = solver.getDecomposition().getLU();
            double minPivot = Double.POSITIVE_INFINITY;
            for (int i = 0; i < n; i++) minPivot = Math.min(minPivot, Math.abs(lu.get(i, i)));
            if (!(minPivot > n * Math.ulp(1.0) * maxAbs)) {
                throw new ArithmeticException("solve: matrix " + bi + " of the batch is singular "
                        + "to working precision (smallest LU pivot " + minPivot + ", largest entry " + maxAbs + ")");
            }
            solver.solve(bm, xm);
            System.arraycopy(xm.data, 0, xv, bi * n * k, n * k);
        }
        write(out, xv);
    }

    // ---------------------------------------------------------------- indexing

    /** Splits a shape around {@code dim} into (outer, size, inner) block counts. */
    private static int[] around(int[] shape, int dim) {
        int outer = 1, inner = 1;
        for (int d = 0; d < dim; d++) outer *= shape[d];
        for (int d = dim + 1; d < shape.length; d++) inner *= shape[d];
        return new int[]{outer, shape[dim], inner};
    }

    @Override
    public void indexSelect(Strided x, int dim, Strided index, Strided out) {
        double[] v = read(x);
        int[] idx = readInts(index);
        int[] in = around(x.shape(), dim);
        int outer = in[0], size = in[1], inner = in[2];
        double[] o = new double[out.numel()];
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < idx.length; i++) {
                int src = (a * size + idx[i]) * inner;
                int dst = (a * idx.length + i) * inner;
                System.arraycopy(v, src, o, dst, inner);
            }
        }
        write(out, o);
    }

    @Override
    public void indexAdd(Strided src, int dim, Strided index, Strided out) {
        double[] s = read(src);
        double[] o = read(out);
        int[] idx = readInts(index);
        int[] sh = around(out.shape(), dim);
        int outer = sh[0], size = sh[1], inner = sh[2];
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < idx.length; i++) {
                int from = (a * idx.length + i) * inner;
                int to = (a * size + idx[i]) * inner;
                for (int j = 0; j < inner; j++) o[to + j] += s[from + j];
            }
        }
        write(out, o);
    }

    @Override
    public void gather(Strided x, int dim, Strided index, Strided out) {
        double[] v = read(x);
        int[] idx = readInts(index);
        int[] xs = around(x.shape(), dim);
        int[] is = around(index.shape(), dim);
        double[] o = new double[idx.length];
        // index shape equals out shape; x may be larger on dim only (other dims equal)
        for (int a = 0; a < is[0]; a++) {
            for (int j = 0; j < is[1]; j++) {
                for (int c = 0; c < is[2]; c++) {
                    int p = (a * is[1] + j) * is[2] + c;
                    o[p] = v[(a * xs[1] + idx[p]) * xs[2] + c];
                }
            }
        }
        write(out, o);
    }

    @Override
    public void scatterAdd(Strided src, int dim, Strided index, Strided out) {
        double[] s = read(src);
        double[] o = read(out);
        int[] idx = readInts(index);
        int[] os = around(out.shape(), dim);
        int[] is = around(index.shape(), dim);
        for (int a = 0; a < is[0]; a++) {
            for (int j = 0; j < is[1]; j++) {
                for (int c = 0; c < is[2]; c++) {
                    int p = (a * is[1] + j) * is[2] + c;
                    o[(a * os[1] + idx[p]) * os[2] + c] += s[p];
                }
            }
        }
        write(out, o);
    }

    @Override
    public void topk(Strided x, int k, boolean largest, Strided indices) {
        double[] v = read(x);
        int n = x.shape()[x.rank() - 1];
        int rows = n == 0 ? 0 : v.length / n;
        double[] o = new double[rows * k];
        Integer[] order = new Integer[n];
        for (int r = 0; r < rows; r++) {
            final int base = r * n;
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (p, q) -> {
                int c = Double.compare(v[base + p], v[base + q]);
                if (largest) c = -c;
                return c != 0 ? c : Integer.compare(p, q);
            });
            for (int i = 0; i < k; i++) o[r * k + i] = order[i];
        }
        write(indices, o);
    }

    // ---------------------------------------------------------------- convolution helpers

    @Override
    public void im2col(Strided x, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        int[] s = x.shape();
        int batch = s[0], ch = s[1], h = s[2], w = s[3];
        int oh = (h + 2 * ph - kh) / sh + 1;
        int ow = (w + 2 * pw - kw) / sw + 1;
        double[] v = read(x);
        double[] o = new double[batch * ch * kh * kw * oh * ow];
        int l = oh * ow;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < ch; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) {
                        int row = (c * kh + i) * kw + j;
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++) {
                                int hy = y * sh - ph + i;
                                int wz = z * sw - pw + j;
                                double e = 0;
                                if (hy >= 0 && hy < h && wz >= 0 && wz < w) {
                                    e = v[((b * ch + c) * h + hy) * w + wz];
                                }
                                o[(b * ch * kh * kw + row) * l + y * ow + z] = e;
                            }
                    }
        write(out, o);
    }

    @Override
    public void col2im(Strided cols, int kh, int kw, int sh, int sw, int ph, int pw, Strided out) {
        int[] s = out.shape();
        int batch = s[0], ch = s[1], h = s[2], w = s[3];
        int oh = (h + 2 * ph - kh) / sh + 1;
        int ow = (w + 2 * pw - kw) / sw + 1;
        double[] v = read(cols);
        double[] o = new double[batch * ch * h * w];
        int l = oh * ow;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < ch; c++)
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++) {
                        int row = (c * kh + i) * kw + j;
                        for (int y = 0; y < oh; y++)
                            for (int z = 0; z < ow; z++) {
                                int hy = y * sh - ph + i;
                                int wz = z * sw - pw + j;
                                if (hy >= 0 && hy < h && wz >= 0 && wz < w) {
                                    o[((b * ch + c) * h + hy) * w + wz] +=
                                            v[(b * ch * kh * kw + row) * l + y * ow + z];
                                }
                            }
                    }
        write(out, o);
    }

    @Override
    public void maxPool2d(Strided x, int kh, int kw, int sh, int sw, int ph, int pw,
                          Strided out, Strided indices) {
        int[] s = x.shape();
        int planes = s[0] * s[1], h = s[2], w = s[3];
        int oh = out.shape()[2], ow = out.shape()[3];
        double[] v = read(x);
        double[] o = new double[planes * oh * ow];
        double[] arg = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
            for (int y = 0; y < oh; y++)
                for (int z = 0; z < ow; z++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int bestAt = -1;
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++) {
                            int hy = y * sh - ph + i;
                            int wz = z * sw - pw + j;
                            if (hy < 0 || hy >= h || wz < 0 || wz >= w) continue;
                            double e = v[(p * h + hy) * w + wz];
                            if (bestAt < 0 || e > best || Double.isNaN(e)) {
                                best = e;
                                bestAt = hy * w + wz;
                            }
                        }
                    o[(p * oh + y) * ow + z] = best;
                    arg[(p * oh + y) * ow + z] = bestAt;
                }
        write(out, o);
        write(indices, arg);
    }
}
