package io.github.grad4j.tensor;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.autograd.Node;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.Storage;
import io.github.grad4j.backend.Strided;
import io.github.grad4j.ops.Convolution;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.ops.LinearAlgebra;
import io.github.grad4j.ops.Pointwise;
import io.github.grad4j.ops.Reductions;
import io.github.grad4j.ops.Views;

import java.util.Arrays;

/**
 * An n-dimensional array: a view (offset, shape, strides) over a backend's {@link Storage},
 * with an element type and, when it takes part in differentiation, a gradient and the graph node
 * that produced it.
 *
 * <p>Shapes are immutable. Views (reshape of contiguous data, permute, transpose, narrow, expand,
 * squeeze/unsqueeze) share storage with their base. The fluent methods are a convenience over the
 * op classes in {@code io.github.grad4j.ops}, where each op's forward and backward live side by side.
 */
public final class Tensor {
    private final Storage storage;
    private final int offset;
    private final int[] shape;
    private final int[] strides;

    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;

    /** Low-level constructor: a view over a storage. Ops use it; users use the factories. */
    public Tensor(Storage storage, int offset, int[] shape, int[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape.clone();
        this.strides = strides.clone();
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " and strides "
                    + Shape.str(strides) + " differ in rank");
        }
    }

    /** A contiguous tensor over a whole storage. */
    public Tensor(Storage storage, int[] shape) {
        this(storage, 0, shape, Strided.rowMajorStrides(shape));
        if (Shape.numel(shape) != storage.size()) {
            throw new IllegalArgumentException("shape " + Shape.str(shape) + " has " + Shape.numel(shape)
                    + " elements but the storage has " + storage.size());
        }
    }

    // ================================================================ factories

    /** FLOAT32 tensor of the given shape holding {@code data} (copied), on the default backend. */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Backends.defaultBackend().upload(data), shape);
    }

    /** FLOAT64 tensor holding {@code data} (copied), on the default backend. */
    public static Tensor of(double[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Backends.defaultBackend().upload(data, DType.FLOAT64), shape);
    }

    /** Tensor of {@code dtype} holding {@code data} converted, on the default backend. */
    public static Tensor of(double[] data, DType dtype, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Backends.defaultBackend().upload(data, dtype), shape);
    }

    /** INT32 tensor (indices, labels, token ids), on the default backend. */
    public static Tensor ofInts(int[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Backends.defaultBackend().upload(data), shape);
    }

    private static void checkLength(int length, int[] shape) {
        if (Shape.numel(shape) != length) {
            throw new IllegalArgumentException("tensor: " + length + " values do not fill shape "
                    + Shape.str(shape) + " (" + Shape.numel(shape) + " elements)");
        }
    }

    /** A zero-dimensional tensor. */
    public static Tensor scalar(double value, DType dtype) {
        return of(new double[]{value}, dtype);
    }

    public static Tensor zeros(DType dtype, int... shape) {
        return zeros(Backends.defaultBackend(), dtype, shape);
    }

    public static Tensor zeros(Backend backend, DType dtype, int... shape) {
        return new Tensor(backend.allocate(dtype, Shape.numel(shape)), shape);
    }

    public static Tensor ones(DType dtype, int... shape) {
        return full(1.0, dtype, shape);
    }

    public static Tensor full(double value, DType dtype, int... shape) {
        double[] d = new double[Shape.numel(shape)];
        Arrays.fill(d, value);
        return of(d, dtype, shape);
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n, DType dtype) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return of(d, dtype, n);
    }

    /** Identity matrix. */
    public static Tensor eye(int n, DType dtype) {
        double[] d = new double[n * n];
        for (int i = 0; i < n; i++) d[i * n + i] = 1;
        return of(d, dtype, n, n);
    }

    /** Standard normal values times {@code std}. */
    public static Tensor randn(Rng rng, double std, DType dtype, int... shape) {
        double[] d = new double[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = std * rng.nextGaussian();
        return of(d, dtype, shape);
    }

    /** Uniform values in [low, high). */
    public static Tensor uniform(Rng rng, double low, double high, DType dtype, int... shape) {
        double[] d = new double[Shape.numel(shape)];
        for (int i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.nextDouble();
        return of(d, dtype, shape);
    }

    // ================================================================ metadata

    public Storage storage() {
        return storage;
    }

    public int offset() {
        return offset;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** A copy of the strides, in elements. */
    public int[] strides() {
        return strides.clone();
    }

    public int size(int axis) {
        return shape[Shape.axis("size", axis, shape.length)];
    }

    public int dim() {
        return shape.length;
    }

    public int numel() {
        return Shape.numel(shape);
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Backend backend() {
        return storage.backend();
    }

    /** What a kernel sees of this tensor. */
    public Strided view() {
        return new Strided(storage, offset, shape, strides);
    }

    public boolean isContiguous() {
        return view().isContiguous();
    }

    // ================================================================ autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /**
     * Marks a leaf as needing a gradient. Returns this tensor for chaining. Only floating-point
     * tensors can require gradients; a non-leaf's flag is set by the op that made it.
     */
    public Tensor requiresGrad(boolean flag) {
        if (flag && !dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("requiresGrad: a " + dtype() + " tensor cannot require a gradient");
        }
        if (gradFn != null && !flag) {
            throw new IllegalStateException("requiresGrad(false) on a tensor computed by '" + gradFn.op()
                    + "': use detach() instead");
        }
        this.requiresGrad = flag;
        return this;
    }

    /** The gradient accumulated by {@link #backward()}, or null. */
    public Tensor grad() {
        return grad;
    }

    public void setGrad(Tensor g) {
        if (g != null && !Arrays.equals(g.shape, shape)) {
            throw new IllegalArgumentException("setGrad: gradient shape " + Shape.str(g.shape)
                    + " differs from tensor shape " + Shape.str(shape));
        }
        this.grad = g;
    }

    /** The node that computed this tensor, or null for a leaf. */
    public Node gradFn() {
        return gradFn;
    }

    /** Used by ops to attach the node that produced this tensor. */
    public Tensor withGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
        return this;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** Backpropagates from this scalar into the {@code grad} of every leaf that requires one. */
    public void backward() {
        Autograd.backward(this, null, false, false);
    }

    /** Backpropagates with an explicit output gradient; retainGraph keeps the graph for another pass. */
    public void backward(Tensor gradOutput, boolean retainGraph) {
        Autograd.backward(this, gradOutput, retainGraph, false);
    }

    /** The same data, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, offset, shape, strides);
    }

    // ================================================================ host access

    /** The elements in row-major order as doubles. */
    public double[] toDoubleArray() {
        return backend().download(view());
    }

    /** The elements in row-major order as floats. */
    public float[] toFloatArray() {
        return backend().downloadFloats(view());
    }

    /** The elements in row-major order as ints (for INT32 tensors and integral values). */
    public int[] toIntArray() {
        double[] d = toDoubleArray();
        int[] out = new int[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (int) d[i];
        return out;
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalStateException("item: tensor of shape " + Shape.str(shape) + " has " + numel()
                    + " elements, not 1");
        }
        return storage.get(offset);
    }

    /** Element at the given indices (one per axis). */
    public double get(int... index) {
        return storage.get(storageIndex("get", index));
    }

    /**
     * Sets one element in place. Allowed only outside any recorded computation (no graph reads
     * this tensor): used for data preparation and finite-difference checks.
     */
    public void set(double value, int... index) {
        checkInPlace("set");
        storage.set(storageIndex("set", index), value);
    }

    private int storageIndex(String op, int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException(op + ": " + index.length + " indices for a tensor of rank "
                    + shape.length);
        }
        int idx = offset;
        for (int d = 0; d < index.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException(op + ": index " + index[d] + " out of range for axis " + d
                        + " of size " + shape[d]);
            }
            idx += index[d] * strides[d];
        }
        return idx;
    }

    /**
     * Copies {@code source}'s values into this tensor's storage (in place, no graph). Used by
     * optimizers and checkpoint loading; the shapes must be equal.
     */
    public Tensor assign(Tensor source) {
        checkInPlace("assign");
        if (!Arrays.equals(source.shape, shape)) {
            throw new IllegalArgumentException("assign: source shape " + Shape.str(source.shape)
                    + " differs from target shape " + Shape.str(shape));
        }
        if (source.backend() != backend()) {
            throw new IllegalArgumentException("assign: source is on backend '" + source.backend().name()
                    + "', target on '" + backend().name() + "'");
        }
        backend().copy(source.view(), view());
        return this;
    }

    private void checkInPlace(String op) {
        if (GradMode.isEnabled() && (requiresGrad || gradFn != null)) {
            throw new IllegalStateException(op + ": in-place change of a tensor that takes part in "
                    + "differentiation; do it inside GradMode.noGrad()");
        }
    }

    /** A copy of this tensor on another backend (no graph). */
    public Tensor to(Backend target) {
        if (target == backend()) return this;
        Storage s;
        switch (dtype()) {
            case FLOAT32: s = target.upload(toFloatArray()); break;
            case INT32: s = target.upload(toIntArray()); break;
            default: s = target.upload(toDoubleArray(), DType.FLOAT64);
        }
        return new Tensor(s, shape);
    }

    // ================================================================ fluent ops

    public Tensor add(Tensor o) { return Pointwise.add(this, o); }
    public Tensor add(double c) { return Pointwise.add(this, constant(c)); }
    public Tensor sub(Tensor o) { return Pointwise.sub(this, o); }
    public Tensor sub(double c) { return Pointwise.sub(this, constant(c)); }
    public Tensor mul(Tensor o) { return Pointwise.mul(this, o); }
    public Tensor mul(double c) { return Pointwise.mul(this, constant(c)); }
    public Tensor div(Tensor o) { return Pointwise.div(this, o); }
    public Tensor div(double c) { return Pointwise.div(this, constant(c)); }
    public Tensor pow(Tensor o) { return Pointwise.pow(this, o); }
    public Tensor pow(double c) { return Pointwise.powScalar(this, c); }
    public Tensor neg() { return Pointwise.neg(this); }
    public Tensor exp() { return Pointwise.exp(this); }
    public Tensor log() { return Pointwise.log(this); }
    public Tensor sqrt() { return Pointwise.sqrt(this); }
    public Tensor abs() { return Pointwise.abs(this); }
    public Tensor tanh() { return Pointwise.tanh(this); }
    public Tensor sigmoid() { return Pointwise.sigmoid(this); }
    public Tensor softplus() { return Pointwise.softplus(this); }
    public Tensor relu() { return Pointwise.relu(this); }
    public Tensor gelu() { return Pointwise.gelu(this); }
    public Tensor square() { return Pointwise.mul(this, this); }
    public Tensor clamp(double min, double max) { return Pointwise.clamp(this, min, max); }
    public Tensor maximum(Tensor o) { return Pointwise.maximum(this, o); }
    public Tensor minimum(Tensor o) { return Pointwise.minimum(this, o); }
    public Tensor gt(Tensor o) { return Pointwise.gt(this, o); }
    public Tensor gt(double c) { return Pointwise.gt(this, constant(c)); }
    public Tensor lt(Tensor o) { return Pointwise.lt(this, o); }
    public Tensor lt(double c) { return Pointwise.lt(this, constant(c)); }
    public Tensor eq(Tensor o) { return Pointwise.eq(this, o); }
    public Tensor maskedFill(Tensor mask, double value) { return Pointwise.maskedFill(this, mask, value); }

    public Tensor sum(int... axes) { return Reductions.sum(this, false, axes); }
    public Tensor sum(boolean keepDim, int... axes) { return Reductions.sum(this, keepDim, axes); }
    public Tensor mean(int... axes) { return Reductions.mean(this, false, axes); }
    public Tensor mean(boolean keepDim, int... axes) { return Reductions.mean(this, keepDim, axes); }
    public Tensor max(int axis, boolean keepDim) { return Reductions.max(this, axis, keepDim); }
    public Tensor min(int axis, boolean keepDim) { return Reductions.min(this, axis, keepDim); }
    public Tensor argmax(int axis) { return Reductions.argmax(this, axis, false); }
    public Tensor var(boolean unbiased, boolean keepDim, int... axes) { return Reductions.var(this, unbiased, keepDim, axes); }
    public Tensor logsumexp(int axis, boolean keepDim) { return Reductions.logsumexp(this, axis, keepDim); }

    public Tensor reshape(int... newShape) { return Views.reshape(this, newShape); }
    public Tensor permute(int... axes) { return Views.permute(this, axes); }
    public Tensor transpose(int a, int b) { return Views.transpose(this, a, b); }
    /** Transpose of the last two axes. */
    public Tensor mT() { return Views.transpose(this, -2, -1); }
    public Tensor narrow(int axis, int start, int length) { return Views.narrow(this, axis, start, length); }
    public Tensor select(int axis, int index) { return Views.select(this, axis, index); }
    public Tensor expand(int... newShape) { return Views.expand(this, newShape); }
    public Tensor unsqueeze(int axis) { return Views.unsqueeze(this, axis); }
    public Tensor squeeze(int axis) { return Views.squeeze(this, axis); }
    public Tensor contiguous() { return Views.contiguous(this); }
    public Tensor flatten(int startAxis) { return Views.flatten(this, startAxis); }
    /** A differentiable conversion to another floating-point dtype (or INT32 without gradient). */
    public Tensor toDType(DType dtype) { return Views.cast(this, dtype); }

    public Tensor matmul(Tensor o) { return LinearAlgebra.matmul(this, o); }
    public Tensor gather(int axis, Tensor index) { return Indexing.gather(this, axis, index); }
    public Tensor indexSelect(int axis, Tensor index) { return Indexing.indexSelect(this, axis, index); }

    public Tensor softmax(int axis) { return Functional.softmax(this, axis); }
    public Tensor logSoftmax(int axis) { return Functional.logSoftmax(this, axis); }
    public Tensor conv2d(Tensor weight, Tensor bias, int stride, int padding) {
        return Convolution.conv2d(this, weight, bias, stride, padding);
    }

    /** A scalar of this tensor's dtype and backend. */
    public Tensor constant(double c) {
        DType d = dtype().isFloatingPoint() ? dtype() : DType.FLOAT32;
        return new Tensor(backend().upload(new double[]{c}, d), new int[0]);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(", ").append(Shape.str(shape));
        if (gradFn != null) sb.append(", gradFn=").append(gradFn.op());
        else if (requiresGrad) sb.append(", requiresGrad");
        int n = numel();
        if (n <= 16) sb.append(", ").append(Arrays.toString(toDoubleArray()));
        return sb.append(')').toString();
    }
}
