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
}
