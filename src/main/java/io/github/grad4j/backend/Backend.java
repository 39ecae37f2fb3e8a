package io.github.grad4j.backend;

/**
 * The kernels an implementation of the engine provides. Ops in {@code io.github.grad4j.ops}
 * validate arguments, allocate outputs and call these; autograd never sees a backend.
 *
 * <p>Contract for every kernel: inputs are {@link Strided} views that may be non-contiguous or
 * broadcast (stride 0); outputs are views the kernel writes (usually freshly allocated and
 * contiguous, but kernels must honour their strides); all views passed to one call belong to this
 * backend. Floating-point inputs and outputs of one call share a dtype unless the kernel says
 * otherwise; INT32 appears only where indices are documented.
 *
 * <p>A backend may keep its storage anywhere (Java heap, off-heap, an OpenCL device): only
 * {@link #allocate}, {@link #upload} and {@link #download} cross that boundary.
 */
public interface Backend {

    /** Short name used in messages ("reference", "cpu", "opencl"). */
    String name();

    /** A zero-filled storage of {@code size} elements. */
    Storage allocate(DType dtype, int size);

    /** A storage holding {@code data}, converted to {@code dtype}. */
    Storage upload(double[] data, DType dtype);

    /** A FLOAT32 storage holding {@code data}. */
    Storage upload(float[] data);

    /** An INT32 storage holding {@code data}. */
    Storage upload(int[] data);

    /** The elements of a view in row-major order, as doubles. */
    double[] download(Strided view);

    /** The elements of a view in row-major order, as floats (rounding FLOAT64). */
    float[] downloadFloats(Strided view);

    /** dst[i] = src[i] elementwise, converting dtype if the two differ. Shapes must be equal. */
    void copy(Strided src, Strided dst);

    /** out = op(x; a, b). x and out have the same shape. */
    void unary(UnaryOp op, Strided x, Strided out, double a, double b);

    /** out = op(x, y). x, y and out have the same shape (broadcasting is done by strides). */
    void binary(BinaryOp op, Strided x, Strided y, Strided out);

    /** out = cond != 0 ? x : y, all the same shape. */
    void where(Strided cond, Strided x, Strided y, Strided out);

    /**
     * Reduces x over the axes where {@code reduceAxis[d]} is true. {@code out} has x's rank with
     * size 1 on reduced axes. When {@code indices} is non-null (MAX/MIN over exactly one axis),
     * it receives the INT32 position of the extreme along that axis (first occurrence).
     */
    void reduce(ReduceOp op, Strided x, boolean[] reduceAxis, Strided out, Strided indices);

    /**
     * Batched matrix product: x [..., M, K] times y [..., K, N] into out [..., M, N]. The batch
     * dimensions of x, y and out are equal (broadcast batches arrive with stride 0); the matrix
     * dimensions may have any strides (transposes arrive as strides, not copies).
     */
    void matmul(Strided x, Strided y, Strided out);

    /**
     * out = x with elements along {@code dim} taken at {@code index} (INT32, rank 1):
     * out[..., i, ...] = x[..., index[i], ...].
     */
    void indexSelect(Strided x, int dim, Strided index, Strided out);

    /** out[..., index[i], ...] += src[..., i, ...] (the adjoint of indexSelect). */
    void indexAdd(Strided src, int dim, Strided index, Strided out);

    /** out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 of a rank-3 view, and so on for any dim. */
    void gather(Strided x, int dim, Strided index, Strided out);

    /** out[i][index[i][j][k]][k] += src[i][j][k] for dim 1, and so on (the adjoint of gather). */
    void scatterAdd(Strided src, int dim, Strided index, Strided out);

    /**
     * Unfolds image patches: x [N, C, H, W] into out [N, C*kh*kw, OH*OW] (zero padding).
     */
    void im2col(Strided x, int kh, int kw, int strideH, int strideW, int padH, int padW, Strided out);

    /** The adjoint of im2col: cols [N, C*kh*kw, OH*OW] summed into out [N, C, H, W]. */
    void col2im(Strided cols, int kh, int kw, int strideH, int strideW, int padH, int padW, Strided out);

    /**
     * Max pooling of x [N, C, H, W] into out [N, C, OH, OW]; {@code indices} (INT32, same shape
     * as out) receives the flat position h*W+w of each maximum within its plane. Padding never wins.
     */
    void maxPool2d(Strided x, int kh, int kw, int strideH, int strideW, int padH, int padW,
                   Strided out, Strided indices);

    /**
     * Solves a [..., n, n] x = b [..., n, k] into out [..., n, k]. Throws ArithmeticException when
     * a matrix is singular to working precision.
     */
    void solve(Strided a, Strided b, Strided out);

    /**
     * Indices (INT32) of the k largest (or smallest) elements along the last axis of x, in
     * descending (ascending) order of value, ties broken by lower index.
     */
    void topk(Strided x, int k, boolean largest, Strided indices);

    // ================================================================ fused kernels
    // Each has a default built from the kernels above, which is its specification; a backend may
    // override it with a faster loop that computes the same thing (up to rounding).

    /**
     * Softmax (or log-softmax when {@code log}) of each row of x [R, C] into out [R, C]: shifted by
     * the row maximum, exp, divided by (log: minus the log of) the row sum.
     */
    default void softmaxRows(Strided x, Strided out, boolean log) {
        int r = x.shape()[0], c = x.shape()[1];
        if (r == 0 || c == 0) return;
        DType dt = x.storage().dtype();
        Strided m = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        reduce(ReduceOp.MAX, x, new boolean[]{false, true}, m, null);
        binary(BinaryOp.SUB, x, columnBroadcast(m, c), out);
        Strided e = log ? Strided.contiguous(allocate(dt, r * c), new int[]{r, c}) : out;
        unary(UnaryOp.EXP, out, e, 0, 0);
        Strided s = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        reduce(ReduceOp.SUM, e, new boolean[]{false, true}, s, null);
        if (log) {
            unary(UnaryOp.LOG, s, s, 0, 0);
            binary(BinaryOp.SUB, out, columnBroadcast(s, c), out);
        } else {
            binary(BinaryOp.DIV, out, columnBroadcast(s, c), out);
        }
    }

    /**
     * Layer normalization of each row of x [R, C] (biased variance) into out [R, C], then
     * out * weight + bias (each [C], either may be null). Saves the row mean and 1/sqrt(var + eps)
     * into mean [R] and rstd [R] for {@link #layerNormBackwardRows}.
     */
    default void layerNormRows(Strided x, Strided weight, Strided bias, double eps, Strided out, Strided mean, Strided rstd) {
        int r = x.shape()[0], c = x.shape()[1];
        if (r == 0) return;
        DType dt = x.storage().dtype();
        Strided m = asColumn(mean), rs = asColumn(rstd);
        reduce(ReduceOp.SUM, x, new boolean[]{false, true}, m, null);
        binary(BinaryOp.DIV, m, scalarView(c, dt, m.shape()), m);
        binary(BinaryOp.SUB, x, columnBroadcast(m, c), out);
        Strided sq = Strided.contiguous(allocate(dt, r * c), new int[]{r, c});
        binary(BinaryOp.MUL, out, out, sq);
        reduce(ReduceOp.SUM, sq, new boolean[]{false, true}, rs, null);
        binary(BinaryOp.DIV, rs, scalarView(c, dt, rs.shape()), rs);
        binary(BinaryOp.ADD, rs, scalarView(eps, dt, rs.shape()), rs);
        unary(UnaryOp.SQRT, rs, rs, 0, 0);
        binary(BinaryOp.DIV, scalarView(1, dt, rs.shape()), rs, rs);
        binary(BinaryOp.MUL, out, columnBroadcast(rs, c), out);
        if (weight != null) binary(BinaryOp.MUL, out, rowBroadcast(weight, r), out);
        if (bias != null) binary(BinaryOp.ADD, out, rowBroadcast(bias, r), out);
    }

    /**
     * The backward of {@link #layerNormRows}: with xhat = (x - mean) rstd and gh = g * weight,
     * gradX = rstd (gh - mean(gh) - xhat mean(gh xhat)) per row; gradWeight = sum over rows of
     * g xhat, gradBias = sum over rows of g (each written, may be null; weight null means 1).
     */
    default void layerNormBackwardRows(Strided g, Strided x, Strided weight, Strided mean, Strided rstd,
                                       Strided gradX, Strided gradWeight, Strided gradBias) {
        int r = x.shape()[0], c = x.shape()[1];
        DType dt = x.storage().dtype();
        Strided m = asColumn(mean), rs = asColumn(rstd);
        Strided xhat = Strided.contiguous(allocate(dt, r * c), new int[]{r, c});
        binary(BinaryOp.SUB, x, columnBroadcast(m, c), xhat);
        binary(BinaryOp.MUL, xhat, columnBroadcast(rs, c), xhat);
        Strided tmp = Strided.contiguous(allocate(dt, r * c), new int[]{r, c});
        if (gradWeight != null) {
            binary(BinaryOp.MUL, g, xhat, tmp);
            reduce(ReduceOp.SUM, tmp, new boolean[]{true, false}, asRow(gradWeight), null);
        }
        if (gradBias != null) reduce(ReduceOp.SUM, g, new boolean[]{true, false}, asRow(gradBias), null);
        if (gradX == null) return;
        Strided gh = Strided.contiguous(allocate(dt, r * c), new int[]{r, c});
        if (weight != null) binary(BinaryOp.MUL, g, rowBroadcast(weight, r), gh);
        else copy(g, gh);
        Strided a = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        Strided b = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        reduce(ReduceOp.SUM, gh, new boolean[]{false, true}, a, null);
        binary(BinaryOp.DIV, a, scalarView(c, dt, a.shape()), a);
        binary(BinaryOp.MUL, gh, xhat, tmp);
        reduce(ReduceOp.SUM, tmp, new boolean[]{false, true}, b, null);
        binary(BinaryOp.DIV, b, scalarView(c, dt, b.shape()), b);
        binary(BinaryOp.MUL, xhat, columnBroadcast(b, c), tmp);
        binary(BinaryOp.SUB, gh, columnBroadcast(a, c), gradX);
        binary(BinaryOp.SUB, gradX, tmp, gradX);
        binary(BinaryOp.MUL, gradX, columnBroadcast(rs, c), gradX);
    }

    /**
     * Batch normalization of x [N, C, S] per channel (S: the flattened spatial axes): mean [C] and
     * biased variance var [C] over N and S, rstd [C] = 1/sqrt(var + eps), and
     * out = (x - mean) rstd * weight + bias (weight, bias [C]; either may be null). The statistics
     * are written for the running averages and for {@link #batchNormChannelsBackward}.
     */
    default void batchNormChannels(Strided x, Strided weight, Strided bias, double eps, Strided out,
                                   Strided mean, Strided var, Strided rstd) {
        int n = x.shape()[0], c = x.shape()[1], s = x.shape()[2];
        DType dt = x.storage().dtype();
        boolean[] axes = {true, false, true};
        double count = (double) n * s;
        Strided m = asChannel(mean), v = asChannel(var), rs = asChannel(rstd);
        reduce(ReduceOp.SUM, x, axes, m, null);
        binary(BinaryOp.DIV, m, scalarView(count, dt, m.shape()), m);
        binary(BinaryOp.SUB, x, channelBroadcast(mean, n, s), out);
        Strided sq = Strided.contiguous(allocate(dt, n * c * s), new int[]{n, c, s});
        binary(BinaryOp.MUL, out, out, sq);
        reduce(ReduceOp.SUM, sq, axes, v, null);
        binary(BinaryOp.DIV, v, scalarView(count, dt, v.shape()), v);
        binary(BinaryOp.ADD, v, scalarView(eps, dt, v.shape()), rs);
        unary(UnaryOp.SQRT, rs, rs, 0, 0);
        binary(BinaryOp.DIV, scalarView(1, dt, rs.shape()), rs, rs);
        binary(BinaryOp.MUL, out, channelBroadcast(rstd, n, s), out);
        if (weight != null) binary(BinaryOp.MUL, out, channelBroadcast(weight, n, s), out);
        if (bias != null) binary(BinaryOp.ADD, out, channelBroadcast(bias, n, s), out);
    }

    /**
     * {@link #batchNormChannels} followed by max(., 0): a batch norm feeding a ReLU, so that a
     * backend can write the rectified values in the same pass instead of a second array.
     */
    default void batchNormReluChannels(Strided x, Strided weight, Strided bias, double eps, Strided out,
                                       Strided mean, Strided var, Strided rstd) {
        batchNormChannels(x, weight, bias, eps, out, mean, var, rstd);
        unary(UnaryOp.RELU, out, out, 0, 0);
    }

    /**
     * {@link #batchNormReluChannels} of x [N, C, H, W] followed by 2x2, stride 2 max pooling into
     * out [N, C, H/2, W/2] and indices (as {@link #maxPool2d}): the block of a Conv-4 network, so
     * that a backend can pool the rectified values while they are in cache instead of writing them.
     * x contiguous; mean, var, rstd [C] as in {@link #batchNormChannels}.
     */
    default void batchNormReluPool2x2(Strided x, Strided weight, Strided bias, double eps, Strided out, Strided indices,
                                      Strided mean, Strided var, Strided rstd) {
        int[] s = x.shape();
        Strided y = Strided.contiguous(allocate(x.storage().dtype(), x.numel()), s);
        batchNormReluChannels(channelRows(x), weight, bias, eps, channelRows(y), mean, var, rstd);
        maxPool2d(y, 2, 2, 2, 2, 0, 0, out, indices);
    }

    /**
     * The backward of {@link #batchNormReluPool2x2} given its output and indices: g taken where the
     * pooled output is &gt; 0 (ReLU's rule at each window's maximum), put at the maxima, and
     * {@link #batchNormChannelsBackward} of that. g, out, indices, x and gradX contiguous.
     */
    default void batchNormReluPool2x2Backward(Strided g, Strided out, Strided indices, Strided x, Strided weight,
                                              Strided mean, Strided rstd, Strided gradX, Strided gradWeight, Strided gradBias) {
        int[] s = x.shape(), p = g.shape();
        int planes = s[0] * s[1];
        Strided masked = Strided.contiguous(allocate(g.storage().dtype(), g.numel()), new int[]{planes, p[2] * p[3]});
        binary(BinaryOp.RELU_BACKWARD, g, out, Strided.contiguous(masked.storage(), p));
        Strided full = Strided.contiguous(allocate(g.storage().dtype(), x.numel()), new int[]{planes, s[2] * s[3]});
        scatterAdd(masked, 1, new Strided(indices.storage(), indices.offset(), masked.shape(), Strided.rowMajorStrides(masked.shape())),
                full);
        batchNormChannelsBackward(Strided.contiguous(full.storage(), new int[]{s[0], s[1], s[2] * s[3]}), channelRows(x),
                weight, mean, rstd, gradX == null ? null : channelRows(gradX), gradWeight, gradBias);
    }

    /**
     * conv2d of x [N, C, H, W] with convWeight [O, C, kh, kw] and convBias [O] (may be null),
     * stride 1 and zero padding (ph, pw), then {@link #batchNormReluPool2x2} of the result into
     * out, indices [N, O, OH/2, OW/2] and mean, var, rstd [O]: a convolution block whose
     * convolution costs few multiply-adds per output (the first block of an image network), so
     * that a backend can recompute the convolution where it is needed instead of writing the
     * batch's activations (four times the pooled output) and reading them back. All contiguous.
     * The default convolves into a temporary and calls the two.
     */
    default void convBatchNormReluPool2x2(Strided x, Strided convWeight, Strided convBias, int ph, int pw,
                                          Strided weight, Strided bias, double eps, Strided out, Strided indices,
                                          Strided mean, Strided var, Strided rstd) {
        Strided y = convolvedBlockInput(x, convWeight, convBias, ph, pw);
        batchNormReluPool2x2(y, weight, bias, eps, out, indices, mean, var, rstd);
    }

    /**
     * The backward of {@link #convBatchNormReluPool2x2} given g, its output, indices and statistics,
     * the convolution's output recomputed: gradX [N, C, H, W], gradConvWeight, gradConvBias (the
     * convolution's), gradWeight and gradBias (batch norm's), each null when not wanted. The
     * default recomputes the convolution into a temporary and calls
     * {@link #batchNormReluPool2x2Backward}, {@link #conv2dBackwardInput} and
     * {@link #conv2dBackwardWeightAndBias}.
     */
    default void convBatchNormReluPool2x2Backward(Strided g, Strided out, Strided indices, Strided x, Strided convWeight,
                                                  Strided convBias, int ph, int pw, Strided weight, Strided mean,
                                                  Strided rstd, Strided gradX, Strided gradConvWeight,
                                                  Strided gradConvBias, Strided gradWeight, Strided gradBias) {
        Strided y = convolvedBlockInput(x, convWeight, convBias, ph, pw);
        boolean convolution = gradX != null || gradConvWeight != null || gradConvBias != null;
        Strided gy = convolution ? Strided.contiguous(allocate(y.storage().dtype(), y.numel()), y.shape()) : null;
        batchNormReluPool2x2Backward(g, out, indices, y, weight, mean, rstd, gy, gradWeight, gradBias);
        if (gradX != null) conv2dBackwardInput(gy, convWeight, 1, 1, ph, pw, gradX);
        if (gradConvWeight != null && gradConvBias != null) {
            conv2dBackwardWeightAndBias(x, gy, 1, 1, ph, pw, gradConvWeight, gradConvBias);
        } else if (gradConvWeight != null) {
            conv2dBackwardWeight(x, gy, 1, 1, ph, pw, gradConvWeight);
        } else if (gradConvBias != null) {
            channelSums(channelRows(gy), null, gradConvBias);
        }
    }

    /** The stride-1 convolution of a {@link #convBatchNormReluPool2x2} block into a new contiguous array. */
    private Strided convolvedBlockInput(Strided x, Strided convWeight, Strided convBias, int ph, int pw) {
        ConvShape s = ConvShape.stride1(x.shape(), convWeight.shape(), ph, pw);
        Strided y = Strided.contiguous(allocate(x.storage().dtype(), s.n() * s.o() * s.l()), s.outShape());
        conv2d(x, convWeight, convBias, 1, 1, ph, pw, y);
        return y;
    }

    /** A contiguous [N, C, H, W] view as [N, C, H*W]. */
    private static Strided channelRows(Strided v) {
        int[] s = v.shape(), shape = {s[0], s[1], s[2] * s[3]};
        return new Strided(v.storage(), v.offset(), shape, Strided.rowMajorStrides(shape));
    }

    /**
     * Convolution (cross-correlation) of x [N, C, H, W] with weight [O, C, kh, kw] plus bias [O]
     * (may be null) into out [N, O, OH, OW], zero padding; all contiguous. The default is im2col,
     * one matrix product per image and a broadcast add; a backend may convolve image by image
     * without materializing the columns of the whole batch, adding the bias while the output is
     * in cache. With the two backward kernels below it is closed under differentiation.
     */
    default void conv2d(Strided x, Strided weight, Strided bias, int strideH, int strideW, int padH, int padW, Strided out) {
        ConvShape s = ConvShape.of(x.shape(), weight.shape(), out.shape());
        if (out.numel() == 0) return;
        Strided cols = Strided.contiguous(allocate(x.storage().dtype(), s.n() * s.k() * s.l()), new int[]{s.n(), s.k(), s.l()});
        im2col(x, s.kh(), s.kw(), strideH, strideW, padH, padW, cols);
        Strided out3 = new Strided(out.storage(), out.offset(), new int[]{s.n(), s.o(), s.l()}, new int[]{s.o() * s.l(), s.l(), 1});
        matmul(new Strided(weight.storage(), weight.offset(), new int[]{s.n(), s.o(), s.k()}, new int[]{0, s.k(), 1}), cols, out3);
        if (bias != null) {
            binary(BinaryOp.ADD, out3, new Strided(bias.storage(), bias.offset(), new int[]{s.n(), s.o(), s.l()},
                    new int[]{0, bias.strides()[0], 0}), out3);
        }
    }

    /**
     * The gradient of {@link #conv2d} with respect to x: g [N, O, OH, OW] and weight [O, C, kh, kw]
     * into gradX [N, C, H, W] (overwritten), all contiguous: the columns weight^T g of each image
     * summed back into the image (col2im).
     */
    default void conv2dBackwardInput(Strided g, Strided weight, int strideH, int strideW, int padH, int padW, Strided gradX) {
        ConvShape s = ConvShape.of(gradX.shape(), weight.shape(), g.shape());
        if (gradX.numel() == 0) return;
        Strided cols = Strided.contiguous(allocate(g.storage().dtype(), s.n() * s.k() * s.l()), new int[]{s.n(), s.k(), s.l()});
        matmul(new Strided(weight.storage(), weight.offset(), new int[]{s.n(), s.k(), s.o()}, new int[]{0, 1, s.k()}),
                new Strided(g.storage(), g.offset(), new int[]{s.n(), s.o(), s.l()}, new int[]{s.o() * s.l(), s.l(), 1}), cols);
        col2im(cols, s.kh(), s.kw(), strideH, strideW, padH, padW, gradX);
    }

    /**
     * {@link #conv2dBackwardWeight} and, into gradBias [O], the bias's gradient: the per-channel
     * sums of g. A backend may sum each image's g while it reads it for the weight gradient instead
     * of reading g once more.
     */
    default void conv2dBackwardWeightAndBias(Strided x, Strided g, int strideH, int strideW, int padH, int padW,
                                             Strided gradWeight, Strided gradBias) {
        conv2dBackwardWeight(x, g, strideH, strideW, padH, padW, gradWeight);
        channelSums(channelRows(g), null, gradBias);
    }

    /**
     * The gradient of {@link #conv2d} with respect to the weight: x [N, C, H, W] and g
     * [N, O, OH, OW] into gradWeight [O, C, kh, kw] (overwritten), all contiguous: the sum over
     * images of g times the transposed columns of x.
     */
    default void conv2dBackwardWeight(Strided x, Strided g, int strideH, int strideW, int padH, int padW, Strided gradWeight) {
        ConvShape s = ConvShape.of(x.shape(), gradWeight.shape(), g.shape());
        Strided gw3 = new Strided(gradWeight.storage(), gradWeight.offset(), new int[]{1, s.o(), s.k()}, new int[]{0, s.k(), 1});
        DType dt = x.storage().dtype();
        Strided cols = Strided.contiguous(allocate(dt, s.n() * s.k() * s.l()), new int[]{s.n(), s.k(), s.l()});
        im2col(x, s.kh(), s.kw(), strideH, strideW, padH, padW, cols);
        Strided products = Strided.contiguous(allocate(dt, s.n() * s.o() * s.k()), new int[]{s.n(), s.o(), s.k()});
        matmul(new Strided(g.storage(), g.offset(), new int[]{s.n(), s.o(), s.l()}, new int[]{s.o() * s.l(), s.l(), 1}),
                new Strided(cols.storage(), cols.offset(), new int[]{s.n(), s.l(), s.k()}, new int[]{s.k() * s.l(), 1, s.l()}),
                products);
        reduce(ReduceOp.SUM, products, new boolean[]{true, false, false}, gw3, null);
    }

    /**
     * Per-channel sums of products over N and S: out[c] = sum over n, s of u[n, c, s] v[n, c, s]
     * (v null: of u alone). With {@link #channelCombine}, its adjoint, it is all batch norm's
     * differentiable backward needs, so a second derivative through batch norm costs a few passes
     * over the activations instead of a dozen elementwise ops and their own backward ops.
     */
    default void channelSums(Strided u, Strided v, Strided out) {
        int n = u.shape()[0], c = u.shape()[1], s = u.shape()[2];
        boolean[] axes = {true, false, true};
        if (v == null) {
            reduce(ReduceOp.SUM, u, axes, asChannel(out), null);
            return;
        }
        Strided product = Strided.contiguous(allocate(u.storage().dtype(), n * c * s), new int[]{n, c, s});
        binary(BinaryOp.MUL, u, v, product);
        reduce(ReduceOp.SUM, product, axes, asChannel(out), null);
    }

    /**
     * out[n, c, s] = a[c] u[n, c, s] + b[c] v[n, c, s] + shift[c] on [N, C, S]; a null means 1, v
     * and b are both given or both null, shift may be null (0). out must not alias u or v.
     */
    default void channelCombine(Strided u, Strided a, Strided v, Strided b, Strided shift, Strided out) {
        int n = u.shape()[0], c = u.shape()[1], s = u.shape()[2];
        if (a == null) copy(u, out);
        else binary(BinaryOp.MUL, u, channelBroadcast(a, n, s), out);
        if (v != null) {
            Strided scaled = Strided.contiguous(allocate(u.storage().dtype(), n * c * s), new int[]{n, c, s});
            binary(BinaryOp.MUL, v, channelBroadcast(b, n, s), scaled);
            binary(BinaryOp.ADD, out, scaled, out);
        }
        if (shift != null) binary(BinaryOp.ADD, out, channelBroadcast(shift, n, s), out);
    }

    /**
     * The backward of {@link #batchNormChannels}: with xhat = (x - mean) rstd and gh = g * weight,
     * gradX = rstd (gh - mean(gh) - xhat mean(gh xhat)), the means per channel over N and S;
     * gradWeight = sum of g xhat, gradBias = sum of g per channel (each written, may be null;
     * weight null means 1).
     */
    default void batchNormChannelsBackward(Strided g, Strided x, Strided weight, Strided mean, Strided rstd,
                                           Strided gradX, Strided gradWeight, Strided gradBias) {
        int n = x.shape()[0], c = x.shape()[1], s = x.shape()[2];
        DType dt = x.storage().dtype();
        boolean[] axes = {true, false, true};
        double count = (double) n * s;
        Strided xhat = Strided.contiguous(allocate(dt, n * c * s), new int[]{n, c, s});
        binary(BinaryOp.SUB, x, channelBroadcast(mean, n, s), xhat);
        binary(BinaryOp.MUL, xhat, channelBroadcast(rstd, n, s), xhat);
        Strided tmp = Strided.contiguous(allocate(dt, n * c * s), new int[]{n, c, s});
        if (gradWeight != null) {
            binary(BinaryOp.MUL, g, xhat, tmp);
            reduce(ReduceOp.SUM, tmp, axes, asChannel(gradWeight), null);
        }
        if (gradBias != null) reduce(ReduceOp.SUM, g, axes, asChannel(gradBias), null);
        if (gradX == null) return;
        Strided gh = Strided.contiguous(allocate(dt, n * c * s), new int[]{n, c, s});
        if (weight != null) binary(BinaryOp.MUL, g, channelBroadcast(weight, n, s), gh);
        else copy(g, gh);
        Strided a = Strided.contiguous(allocate(dt, c), new int[]{c});
        Strided b = Strided.contiguous(allocate(dt, c), new int[]{c});
        reduce(ReduceOp.SUM, gh, axes, asChannel(a), null);
        binary(BinaryOp.DIV, a, scalarView(count, dt, a.shape()), a);
        binary(BinaryOp.MUL, gh, xhat, tmp);
        reduce(ReduceOp.SUM, tmp, axes, asChannel(b), null);
        binary(BinaryOp.DIV, b, scalarView(count, dt, b.shape()), b);
        binary(BinaryOp.MUL, xhat, channelBroadcast(b, n, s), tmp);
        binary(BinaryOp.SUB, gh, channelBroadcast(a, n, s), gradX);
        binary(BinaryOp.SUB, gradX, tmp, gradX);
        binary(BinaryOp.MUL, gradX, channelBroadcast(rstd, n, s), gradX);
    }

    /**
     * The backward of {@link #batchNormReluChannels} given its output y: {@link #batchNormChannelsBackward}
     * of g where y &gt; 0 and 0 elsewhere (a backend may mask g row by row instead of writing it).
     */
    default void batchNormReluChannelsBackward(Strided g, Strided y, Strided x, Strided weight, Strided mean, Strided rstd,
                                               Strided gradX, Strided gradWeight, Strided gradBias) {
        Strided masked = Strided.contiguous(allocate(g.storage().dtype(), g.numel()), g.shape());
        binary(BinaryOp.RELU_BACKWARD, g, y, masked);
        batchNormChannelsBackward(masked, x, weight, mean, rstd, gradX, gradWeight, gradBias);
    }

    /**
     * Cross-entropy of each row of logits [N, V] against targets (INT32 [N], each in [0, V)):
     * losses[i] = (logsumexp(row i) - logits[i, targets[i]]) keep[i]; keep [N] (the logits' dtype,
     * 0 for rows left out, else 1) may be null for all ones. lse [N] receives the row logsumexp for
     * {@link #crossEntropyBackwardRows}.
     */
    default void crossEntropyRows(Strided logits, Strided targets, Strided keep, Strided losses, Strided lse) {
        int n = logits.shape()[0];
        if (n == 0) return;
        DType dt = logits.storage().dtype();
        logSumExpRows(logits, asColumn(lse));
        Strided picked = Strided.contiguous(allocate(dt, n), new int[]{n, 1});
        gather(logits, 1, asColumn(targets), picked);
        binary(BinaryOp.SUB, asColumn(lse), picked, asColumn(losses));
        if (keep != null) binary(BinaryOp.MUL, asColumn(losses), asColumn(keep), asColumn(losses));
    }

    /**
     * The backward of {@link #crossEntropyRows}: gradLogits[i, j] = gradLoss[i] keep[i]
     * (exp(logits[i, j] - lse[i]) - [j == targets[i]]); keep may be null for all ones.
     */
    default void crossEntropyBackwardRows(Strided logits, Strided lse, Strided targets, Strided keep,
                                          Strided gradLoss, Strided gradLogits) {
        int n = logits.shape()[0], v = logits.shape()[1];
        if (n == 0) return;
        DType dt = logits.storage().dtype();
        binary(BinaryOp.SUB, logits, columnBroadcast(asColumn(lse), v), gradLogits);
        unary(UnaryOp.EXP, gradLogits, gradLogits, 0, 0);
        scatterAdd(scalarView(-1, dt, new int[]{n, 1}), 1, asColumn(targets), gradLogits);
        Strided scale = asColumn(gradLoss);
        if (keep != null) {
            scale = Strided.contiguous(allocate(dt, n), new int[]{n, 1});
            binary(BinaryOp.MUL, asColumn(keep), asColumn(gradLoss), scale);
        }
        binary(BinaryOp.MUL, gradLogits, columnBroadcast(scale, v), gradLogits);
    }

    /**
     * Scaled dot-product attention: out = softmax(q k^T scale + mask) v for q [..., T, d],
     * k [..., S, d], v [..., S, dv], out [..., T, dv] (equal batch axes; any strides). With
     * {@code causal}, query i (at absolute position S - T + i) sees keys j &lt;= S - T + i only.
     * lse [..., T] (contiguous) receives each row's logsumexp of the masked scores.
     */
    default void attention(Strided q, Strided k, Strided v, double scale, boolean causal, Strided out, Strided lse) {
        Strided p = attentionProbabilities(q, k, scale, causal, lse, true);
        if (p != null) matmul(p, v, out);
    }

    /**
     * The backward of {@link #attention} given its inputs, lse and the output gradient g
     * [..., T, dv]: with P the probabilities, gradV = P^T g, dP = g v^T, dS = P (dP - rowsum(dP P))
     * scale, gradQ = dS k, gradK = dS^T q (each written).
     */
    default void attentionBackward(Strided q, Strided k, Strided v, double scale, boolean causal, Strided lse,
                                   Strided g, Strided gradQ, Strided gradK, Strided gradV) {
        Strided p = attentionProbabilities(q, k, scale, causal, lse, false);
        if (p == null) return;
        DType dt = q.storage().dtype();
        int[] ps = p.shape();
        int rank = ps.length, t = ps[rank - 2], s = ps[rank - 1];
        matmul(transposed(p), g, gradV);
        Strided dp = Strided.contiguous(allocate(dt, p.numel()), ps);
        matmul(g, transposed(v), dp);
        Strided tmp = Strided.contiguous(allocate(dt, p.numel()), ps);
        binary(BinaryOp.MUL, dp, p, tmp);
        int rows = p.numel() / Math.max(1, s);
        Strided rowSum = Strided.contiguous(allocate(dt, rows), new int[]{rows, 1});
        Strided dp2 = Strided.contiguous(dp.storage(), new int[]{rows, s});
        reduce(ReduceOp.SUM, Strided.contiguous(tmp.storage(), new int[]{rows, s}), new boolean[]{false, true}, rowSum, null);
        binary(BinaryOp.SUB, dp2, columnBroadcast(rowSum, s), dp2);
        binary(BinaryOp.MUL, dp, p, dp);
        binary(BinaryOp.MUL, dp, scalarView(scale, dt, ps), dp);
        matmul(dp, k, gradQ);
        matmul(transposed(dp), q, gradK);
    }

    /**
     * One Adam step in place (PyTorch's Adam, or AdamW when {@code decoupled}), for step number
     * {@code step} (1 for the first):
     * g = grad (+ wd param unless decoupled); m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g;
     * param = param (1 - lr wd if decoupled) - lr / (1 - beta1^step) m / (sqrt(v) / sqrt(1 - beta2^step) + eps).
     * All views have one shape and dtype.
     */
    default void adamStep(Strided param, Strided grad, Strided expAvg, Strided expAvgSq, long step, double lr,
                          double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        int[] shape = param.shape();
        int n = param.numel();
        if (n == 0) return;
        DType dt = param.storage().dtype();
        Strided g = grad;
        if (!decoupled && weightDecay != 0) {
            g = Strided.contiguous(allocate(dt, n), shape);
            binary(BinaryOp.MUL, param, scalarView(weightDecay, dt, shape), g);
            binary(BinaryOp.ADD, grad, g, g);
        }
        Strided t = Strided.contiguous(allocate(dt, n), shape);
        binary(BinaryOp.MUL, expAvg, scalarView(beta1, dt, shape), expAvg);
        binary(BinaryOp.MUL, g, scalarView(1 - beta1, dt, shape), t);
        binary(BinaryOp.ADD, expAvg, t, expAvg);
        binary(BinaryOp.MUL, expAvgSq, scalarView(beta2, dt, shape), expAvgSq);
        binary(BinaryOp.MUL, g, g, t);
        binary(BinaryOp.MUL, t, scalarView(1 - beta2, dt, shape), t);
        binary(BinaryOp.ADD, expAvgSq, t, expAvgSq);
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double biasCorrection2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        unary(UnaryOp.SQRT, expAvgSq, t, 0, 0);
        binary(BinaryOp.DIV, t, scalarView(biasCorrection2Sqrt, dt, shape), t);
        binary(BinaryOp.ADD, t, scalarView(eps, dt, shape), t);
        binary(BinaryOp.DIV, expAvg, t, t);
        binary(BinaryOp.MUL, t, scalarView(lr / biasCorrection1, dt, shape), t);
        if (decoupled && weightDecay != 0) binary(BinaryOp.MUL, param, scalarView(1 - lr * weightDecay, dt, shape), param);
        binary(BinaryOp.SUB, param, t, param);
    }

    /**
     * The derivative of GPT-2's tanh GELU times g: out = g (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 k x^2)),
     * t = tanh(c (x + k x^3)), c = sqrt(2/pi), k = 0.044715. x, g and out have one shape.
     */
    default void geluTanhBackward(Strided x, Strided g, Strided out) {
        int[] shape = x.shape();
        int n = x.numel();
        if (n == 0) return;
        DType dt = x.storage().dtype();
        double c = Math.sqrt(2.0 / Math.PI), k = 0.044715;
        Strided x2 = Strided.contiguous(allocate(dt, n), shape);
        Strided t = Strided.contiguous(allocate(dt, n), shape);
        Strided d = Strided.contiguous(allocate(dt, n), shape);
        binary(BinaryOp.MUL, x, x, x2);
        binary(BinaryOp.MUL, x2, x, t);
        binary(BinaryOp.MUL, t, scalarView(k, dt, shape), t);
        binary(BinaryOp.ADD, x, t, t);
        binary(BinaryOp.MUL, t, scalarView(c, dt, shape), t);
        unary(UnaryOp.TANH, t, t, 0, 0);
        binary(BinaryOp.MUL, x2, scalarView(3 * k, dt, shape), x2);
        binary(BinaryOp.ADD, x2, scalarView(1, dt, shape), x2);
        binary(BinaryOp.MUL, x2, scalarView(c, dt, shape), x2); // dInner
        binary(BinaryOp.MUL, t, t, d);
        binary(BinaryOp.SUB, scalarView(1, dt, shape), d, d);
        binary(BinaryOp.MUL, d, x2, d);
        binary(BinaryOp.MUL, d, x, d);
        binary(BinaryOp.MUL, d, scalarView(0.5, dt, shape), d);
        binary(BinaryOp.ADD, t, scalarView(1, dt, shape), t);
        binary(BinaryOp.MUL, t, scalarView(0.5, dt, shape), t);
        binary(BinaryOp.ADD, t, d, d);
        binary(BinaryOp.MUL, g, d, out);
    }

    // ---------------------------------------------------------------- helpers of the defaults

    /** A constant broadcast to {@code shape} (stride 0 everywhere). */
    private Strided scalarView(double value, DType dtype, int[] shape) {
        return new Strided(upload(new double[]{value}, dtype), 0, shape, new int[shape.length]);
    }

    /** A [R, 1] view broadcast along columns to [R, c]. */
    private static Strided columnBroadcast(Strided column, int c) {
        return new Strided(column.storage(), column.offset(), new int[]{column.shape()[0], c}, new int[]{column.strides()[0], 0});
    }

    /** A [C] view broadcast along rows to [r, C]. */
    private static Strided rowBroadcast(Strided row, int r) {
        return new Strided(row.storage(), row.offset(), new int[]{r, row.shape()[0]}, new int[]{0, row.strides()[0]});
    }

    /** A [C] view as [1, C, 1] (the kept-axes shape of a per-channel reduction of [N, C, S]). */
    private static Strided asChannel(Strided v) {
        return new Strided(v.storage(), v.offset(), new int[]{1, v.shape()[0], 1}, new int[]{0, v.strides()[0], 0});
    }

    /** A [C] view broadcast to [n, C, s]. */
    private static Strided channelBroadcast(Strided v, int n, int s) {
        return new Strided(v.storage(), v.offset(), new int[]{n, v.shape()[0], s}, new int[]{0, v.strides()[0], 0});
    }

    /** A [R] view as [R, 1]. */
    private static Strided asColumn(Strided v) {
        return new Strided(v.storage(), v.offset(), new int[]{v.shape()[0], 1}, new int[]{v.strides()[0], 1});
    }

    /** A [C] view as [1, C]. */
    private static Strided asRow(Strided v) {
        return new Strided(v.storage(), v.offset(), new int[]{1, v.shape()[0]}, new int[]{1, v.strides()[0]});
    }

    /** The last two axes swapped. */
    private static Strided transposed(Strided v) {
        int r = v.rank();
        int[] sh = v.shape().clone(), st = v.strides().clone();
        int a = sh[r - 1]; sh[r - 1] = sh[r - 2]; sh[r - 2] = a;
        a = st[r - 1]; st[r - 1] = st[r - 2]; st[r - 2] = a;
        return new Strided(v.storage(), v.offset(), sh, st);
    }

    /** lse[i] = log(sum_j exp(x[i, j] - m)) + m with m the row maximum (0 where m is infinite). */
    private void logSumExpRows(Strided x, Strided lse) {
        int r = x.shape()[0], c = x.shape()[1];
        DType dt = x.storage().dtype();
        Strided m = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        reduce(ReduceOp.MAX, x, new boolean[]{false, true}, m, null);
        Strided infinite = Strided.contiguous(allocate(dt, r), new int[]{r, 1});
        unary(UnaryOp.ABS, m, infinite, 0, 0);
        binary(BinaryOp.EQ, infinite, scalarView(Double.POSITIVE_INFINITY, dt, m.shape()), infinite);
        where(infinite, scalarView(0, dt, m.shape()), m, m);
        Strided e = Strided.contiguous(allocate(dt, r * c), new int[]{r, c});
        binary(BinaryOp.SUB, x, columnBroadcast(m, c), e);
        unary(UnaryOp.EXP, e, e, 0, 0);
        reduce(ReduceOp.SUM, e, new boolean[]{false, true}, lse, null);
        unary(UnaryOp.LOG, lse, lse, 0, 0);
        binary(BinaryOp.ADD, lse, m, lse);
    }

    /**
     * The masked, scaled attention scores of q and k as probabilities [..., T, S] (contiguous),
     * computing lse first when {@code computeLse}, else reading it. Null when empty.
     */
    private Strided attentionProbabilities(Strided q, Strided k, double scale, boolean causal, Strided lse, boolean computeLse) {
        int rank = q.rank();
        int t = q.shape()[rank - 2], s = k.shape()[rank - 2];
        int[] ps = q.shape().clone();
        ps[rank - 1] = s;
        int n = 1;
        for (int x : ps) n *= x;
        if (n == 0) return null;
        DType dt = q.storage().dtype();
        Strided p = Strided.contiguous(allocate(dt, n), ps);
        matmul(q, transposed(k), p);
        binary(BinaryOp.MUL, p, scalarView(scale, dt, ps), p);
        if (causal) {
            // the [t, s] mask is computed where p lives, from t + s positions, rather than uploaded
            // whole on every call: key j is allowed for query i when j <= s - t + i
            double[] lastKey = new double[t], key = new double[s];
            for (int i = 0; i < t; i++) lastKey[i] = s - t + i;
            for (int j = 0; j < s; j++) key[j] = j;
            int[] ts = {t, s};
            Strided allowed = Strided.contiguous(allocate(dt, t * s), ts);
            binary(BinaryOp.LE, new Strided(upload(key, dt), 0, ts, new int[]{0, 1}),
                    new Strided(upload(lastKey, dt), 0, ts, new int[]{1, 0}), allowed);
            int[] cst = new int[rank];
            cst[rank - 2] = s;
            cst[rank - 1] = 1;
            Strided cond = new Strided(allowed.storage(), 0, ps, cst);
            where(cond, p, scalarView(Double.NEGATIVE_INFINITY, dt, ps), p);
        }
        int rows = n / s;
        Strided flat = Strided.contiguous(p.storage(), new int[]{rows, s});
        Strided l = new Strided(lse.storage(), lse.offset(), new int[]{rows, 1}, new int[]{1, 1});
        if (computeLse) logSumExpRows(flat, l);
        binary(BinaryOp.SUB, flat, columnBroadcast(l, s), flat);
        unary(UnaryOp.EXP, flat, flat, 0, 0);
        return p;
    }
}
