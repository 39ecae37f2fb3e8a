package io.github.grad4j.ops;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;

import static io.github.grad4j.ops.OpSupport.*;

/**
 * Per-channel reductions and combinations over activations [N, C, ...]: the two ops batch norm's
 * differentiable backward is made of. Each is the other's adjoint (the backward of a channel sum is
 * a channel combination, and the reverse), so derivatives of any order stay within these two fused
 * ops: a few passes over the activations where the same rule in elementwise ops takes a dozen.
 * MAML-style meta-learning differentiates through batch norm's backward at every inner step.
 */
public final class ChannelOps {
    private ChannelOps() {
    }

    /**
     * out[c] = sum over n and the trailing axes of u[n, c, ...] v[n, c, ...] (v null: of u alone).
     *
     * @param u [N, C, ...]
     * @param v the shape of u, or null
     * @return [C]
     */
    public static Tensor channelSums(Tensor u, Tensor v) {
        String op = "channelSums";
        requireActivations(op, "u", u);
        Backend backend = v == null ? backendOf(op, u) : backendOf(op, u, v);
        DType dtype = v == null ? u.dtype() : sameFloat(op, u, v);
        requireFloat(op, "u", u);
        if (v != null) requireSameShape(op, "v", v, u);
        int n = u.size(0), c = u.size(1), s = u.numel() / Math.max(1, n * c);
        Tensor uc = Views.contiguous(u.detach());
        Tensor vc = v == null ? null : Views.contiguous(v.detach());
        Tensor out;
        if (u.numel() == 0) {
            out = new Tensor(backend.upload(new double[c], dtype), new int[]{c}); // an empty sum is 0
        } else {
            out = empty(backend, dtype, new int[]{c});
            backend.channelSums(flat3(uc, n, c, s), vc == null ? null : flat3(vc, n, c, s), flat1(out));
        }
        Tensor[] inputs = v == null ? new Tensor[]{u} : new Tensor[]{u, v};
        return record(out, op, inputs, g -> {
            Tensor gu = null, gv = null;
            if (wants(u)) gu = v == null ? Views.expand(Views.reshape(g, channelShape(u)), u.shape())
                    : channelCombine(v, g, null, null, null);
            if (v != null && wants(v)) gv = channelCombine(u, g, null, null, null);
            return v == null ? new Tensor[]{gu} : new Tensor[]{gu, gv};
        });
    }

    /**
     * out[n, c, ...] = a[c] u[n, c, ...] + b[c] v[n, c, ...] + shift[c].
     *
     * @param u     [N, C, ...]
     * @param a     [C], or null for 1
     * @param v     the shape of u, or null (then b must be null)
     * @param b     [C] when v is given
     * @param shift [C], or null for 0
     */
    public static Tensor channelCombine(Tensor u, Tensor a, Tensor v, Tensor b, Tensor shift) {
        String op = "channelCombine";
        requireActivations(op, "u", u);
        requireFloat(op, "u", u);
        if ((v == null) != (b == null)) {
            throw new IllegalArgumentException(op + ": v and b go together, got v " + (v == null ? "null" : Shape.str(v.shape()))
                    + " and b " + (b == null ? "null" : Shape.str(b.shape())));
        }
        int n = u.size(0), c = u.size(1), s = u.numel() / Math.max(1, n * c);
        if (v != null) requireSameShape(op, "v", v, u);
        for (Tensor t : new Tensor[]{a, b, shift}) {
            if (t != null) {
                sameFloat(op, u, t);
                if (!Arrays.equals(t.shape(), new int[]{c})) {
                    throw new IllegalArgumentException(op + ": per-channel coefficients must have shape [" + c + "] for u "
                            + Shape.str(u.shape()) + ", got " + Shape.str(t.shape()));
                }
            }
        }
        Backend backend = backendOf(op, u, a, v, b, shift);
        Tensor uc = Views.contiguous(u.detach());
        Tensor vc = v == null ? null : Views.contiguous(v.detach());
        Tensor ac = a == null ? null : Views.contiguous(a.detach());
        Tensor bc = b == null ? null : Views.contiguous(b.detach());
        Tensor sc = shift == null ? null : Views.contiguous(shift.detach());
        Tensor out = empty(backend, u.dtype(), u.shape());
        if (u.numel() > 0) {
            backend.channelCombine(flat3(uc, n, c, s), ac == null ? null : flat1(ac), vc == null ? null : flat3(vc, n, c, s),
                    bc == null ? null : flat1(bc), sc == null ? null : flat1(sc), flat3(out, n, c, s));
        }
        return record(out, op, new Tensor[]{u, a, v, b, shift}, g -> new Tensor[]{
                wants(u) ? (a == null ? g : channelCombine(g, a, null, null, null)) : null,
                wants(a) ? channelSums(g, u) : null,
                v != null && wants(v) ? channelCombine(g, b, null, null, null) : null,
                b != null && wants(b) ? channelSums(g, v) : null,
                wants(shift) ? channelSums(g, null) : null});
    }

    private static void requireActivations(String op, String arg, Tensor t) {
        if (t.dim() < 2) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be [N, C, ...], got " + Shape.str(t.shape()));
        }
    }

    private static void requireSameShape(String op, String arg, Tensor t, Tensor u) {
        if (!Arrays.equals(t.shape(), u.shape())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must have the shape of u "
                    + Shape.str(u.shape()) + ", got " + Shape.str(t.shape()));
        }
    }

    private static int[] channelShape(Tensor u) {
        int[] shape = new int[u.dim()];
        Arrays.fill(shape, 1);
        shape[1] = u.size(1);
        return shape;
    }
}
