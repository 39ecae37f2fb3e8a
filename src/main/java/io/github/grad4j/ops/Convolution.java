package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import static io.github.grad4j.ops.OpSupport.*;

/**
 * 2-D convolution as im2col + matrix product, and max pooling. im2col and col2im are each
 * other's adjoints and both are linear, so conv2d is differentiable to any order.
 */
public final class Convolution {
    private Convolution() {
    }

    static int outSize(String op, int in, int k, int stride, int pad) {
        // validate before dividing: a zero stride must get this message, not "/ by zero"
        if (k <= 0 || stride <= 0 || pad < 0 || in + 2 * pad < k) {
            throw new IllegalArgumentException(op + ": kernel " + k + ", stride " + stride + ", padding " + pad
                    + " do not fit an input of size " + in);
        }
        return (in + 2 * pad - k) / stride + 1;
    }

    /** Patches of x [N, C, H, W] as columns [N, C*kh*kw, OH*OW]. */
    public static Tensor im2col(Tensor x, int kh, int kw, int stride, int pad) {
        requireFloat("im2col", "x", x);
        requireRank("im2col", "x", x, 4);
        int[] s = x.shape();
        int oh = outSize("im2col", s[2], kh, stride, pad), ow = outSize("im2col", s[3], kw, stride, pad);
        Tensor out = empty(x.backend(), x.dtype(), new int[]{s[0], s[1] * kh * kw, oh * ow});
        x.backend().im2col(x.view(), kh, kw, stride, stride, pad, pad, out.view());
        return record(out, "im2col", x, g -> new Tensor[]{col2im(g, s, kh, kw, stride, pad)});
    }

    /** Sums columns [N, C*kh*kw, OH*OW] back into an image of {@code imageShape} (the adjoint of im2col). */
    public static Tensor col2im(Tensor cols, int[] imageShape, int kh, int kw, int stride, int pad) {
        requireFloat("col2im", "cols", cols);
        Tensor out = empty(cols.backend(), cols.dtype(), imageShape);
        cols.backend().col2im(cols.view(), kh, kw, stride, stride, pad, pad, out.view());
        return record(out, "col2im", cols, g -> new Tensor[]{im2col(g, kh, kw, stride, pad)});
    }

    /**
     * Convolution (cross-correlation, as in PyTorch) of x [N, C, H, W] with weight [O, C, kh, kw],
     * square stride and zero padding, plus an optional bias [O].
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        int[] outShape = outputShape("conv2d", x, weight, bias, stride, padding);
        int[] xs = x.shape(), ws = weight.shape();
        int oh = outShape[2], ow = outShape[3];
        if (Fusion.enabled()) return convolve(x, weight, bias, outShape, stride, padding);
        Tensor cols = im2col(x, ws[2], ws[3], stride, padding);             // [N, C*kh*kw, L]
        Tensor w2 = Views.reshape(weight, ws[0], ws[1] * ws[2] * ws[3]);    // [O, C*kh*kw]
        Tensor y = Views.reshape(LinearAlgebra.matmul(w2, cols), xs[0], ws[0], oh, ow);
        if (bias != null) y = Pointwise.add(y, Views.reshape(bias, 1, ws[0], 1, 1));
        return y;
    }

    /** conv2d's output shape [N, O, OH, OW], after checking the arguments (errors name {@code op} and the shapes). */
    static int[] outputShape(String op, Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        requireRank(op, "x", x, 4);
        requireRank(op, "weight", weight, 4);
        int[] xs = x.shape(), ws = weight.shape();
        if (xs[1] != ws[1]) {
            throw new IllegalArgumentException(op + ": input " + Shape.str(xs) + " has " + xs[1]
                    + " channels but weight " + Shape.str(ws) + " expects " + ws[1]);
        }
        if (bias != null && (bias.dim() != 1 || bias.size(0) != ws[0])) {
            throw new IllegalArgumentException(op + ": bias " + Shape.str(bias.shape()) + " should be [" + ws[0] + "]");
        }
        return new int[]{xs[0], ws[0], outSize(op, xs[2], ws[2], stride, padding), outSize(op, xs[3], ws[3], stride, padding)};
    }

    // The convolution as one op with two backward ops. Each of the three is linear in each of its
    // two arguments and the adjoint of the others in that argument, so the backward of any of them
    // is made of the three again and derivatives of every order stay fused (meta-learning takes
    // second derivatives through Conv-4). Backends run them image by image (Backend#conv2d),
    // without the batch's unfolded columns, the per-image weight-gradient products and their sum.

    /**
     * y = x * weight + bias: x [N, C, H, W], weight [O, C, kh, kw], bias [O] or null, y of
     * {@code outShape} [N, O, OH, OW]. The bias's gradient is the per-channel sum of g.
     */
    static Tensor convolve(Tensor x, Tensor weight, Tensor bias, int[] outShape, int stride, int pad) {
        Backend backend = bias == null ? backendOf("conv2d", x, weight) : backendOf("conv2d", x, weight, bias);
        DType dtype = sameFloat("conv2d", x, weight);
        if (bias != null) sameFloat("conv2d", x, bias);
        Tensor xc = Views.contiguous(x.detach()), wc = Views.contiguous(weight.detach());
        Tensor bc = bias == null ? null : Views.contiguous(bias.detach());
        Tensor out = empty(backend, dtype, outShape);
        backend.conv2d(xc.view(), wc.view(), bc == null ? null : bc.view(), stride, stride, pad, pad, out.view());
        int[] xShape = x.shape(), wShape = weight.shape();
        return record(out, "conv2d", new Tensor[]{x, weight, bias}, g -> {
            Tensor gx = wants(x) ? convolveBackwardInput(g, weight, xShape, stride, pad) : null;
            boolean biasGrad = bias != null && wants(bias);
            if (biasGrad && wants(weight) && !GradMode.isEnabled()) {
                // first order: the bias's sums come with the weight gradient's reading of g
                Tensor gc = Views.contiguous(g);
                Tensor gw = empty(backend, dtype, wShape), gb = empty(backend, dtype, new int[]{outShape[1]});
                backend.conv2dBackwardWeightAndBias(xc.view(), gc.view(), stride, stride, pad, pad, gw.view(), gb.view());
                return new Tensor[]{gx, gw, gb};
            }
            return new Tensor[]{gx,
                    wants(weight) ? convolveBackwardWeight(x, g, wShape, stride, pad) : null,
                    biasGrad ? ChannelOps.channelSums(g, null) : null};
        });
    }

    /** The gradient of {@link #convolve} with respect to x, given g [N, O, OH, OW]: an image of {@code xShape}. */
    static Tensor convolveBackwardInput(Tensor g, Tensor weight, int[] xShape, int stride, int pad) {
        Backend backend = backendOf("conv2dBackwardInput", g, weight);
        DType dtype = sameFloat("conv2dBackwardInput", g, weight);
        Tensor gc = Views.contiguous(g.detach()), wc = Views.contiguous(weight.detach());
        Tensor out = empty(backend, dtype, xShape);
        backend.conv2dBackwardInput(gc.view(), wc.view(), stride, stride, pad, pad, out.view());
        int[] gShape = g.shape(), wShape = weight.shape();
        return record(out, "conv2dBackwardInput", new Tensor[]{g, weight}, h -> new Tensor[]{
                wants(g) ? convolve(h, weight, null, gShape, stride, pad) : null,
                wants(weight) ? convolveBackwardWeight(h, g, wShape, stride, pad) : null});
    }

    /** The gradient of {@link #convolve} with respect to the weight, given x and g: a weight of {@code wShape}. */
    static Tensor convolveBackwardWeight(Tensor x, Tensor g, int[] wShape, int stride, int pad) {
        Backend backend = backendOf("conv2dBackwardWeight", x, g);
        DType dtype = sameFloat("conv2dBackwardWeight", x, g);
        Tensor xc = Views.contiguous(x.detach()), gc = Views.contiguous(g.detach());
        Tensor out = empty(backend, dtype, wShape);
        backend.conv2dBackwardWeight(xc.view(), gc.view(), stride, stride, pad, pad, out.view());
        int[] xShape = x.shape(), gShape = g.shape();
        return record(out, "conv2dBackwardWeight", new Tensor[]{x, g}, h -> new Tensor[]{
                wants(x) ? convolveBackwardInput(g, h, xShape, stride, pad) : null,
                wants(g) ? convolve(x, h, null, gShape, stride, pad) : null});
    }

    /** Max pooling with a square window; gradients go to the (first) maximum of each window. */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        requireFloat("maxPool2d", "x", x);
        requireRank("maxPool2d", "x", x, 4);
        if (padding * 2 > kernel) {
            throw new IllegalArgumentException("maxPool2d: padding " + padding + " must be at most half the kernel " + kernel);
        }
        int[] s = x.shape();
        int oh = outSize("maxPool2d", s[2], kernel, stride, padding);
        int ow = outSize("maxPool2d", s[3], kernel, stride, padding);
        int[] outShape = {s[0], s[1], oh, ow};
        Tensor out = empty(x.backend(), x.dtype(), outShape);
        Tensor idx = empty(x.backend(), DType.INT32, outShape);
        x.backend().maxPool2d(x.view(), kernel, kernel, stride, stride, padding, padding, out.view(), idx.view());
        int planes = s[0] * s[1];
        return record(out, "maxPool2d", x, g -> {
            Tensor flat = Indexing.scatterAddIntoZeros(new int[]{planes, s[2] * s[3]}, 1, Views.reshape(idx, planes, oh * ow),
                    Views.reshape(g, planes, oh * ow));
            return new Tensor[]{Views.reshape(flat, s)};
        });
    }
}
