package io.github.grad4j.ops;

import io.github.grad4j.autograd.GradMode;

import io.github.grad4j.backend.Backend;
import io.github.grad4j.backend.BinaryOp;
import io.github.grad4j.backend.DType;
import io.github.grad4j.backend.UnaryOp;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import static io.github.grad4j.ops.OpSupport.*;

/**
 * Elementwise ops with broadcasting. Each op: forward (one backend call) and its backward rule,
 * written in these same differentiable ops so second derivatives work.
 */
public final class Pointwise {
    private Pointwise() {
    }

    // ---------------------------------------------------------------- kernels

    static Tensor binaryKernel(String op, BinaryOp kind, Tensor a, Tensor b) {
        Backend backend = backendOf(op, a, b);
        DType dtype = sameFloat(op, a, b);
        int[] shape = Shape.broadcast(op, a.shape(), b.shape());
        Tensor out = empty(backend, dtype, shape);
        backend.binary(kind, broadcastView(a, shape), broadcastView(b, shape), out.view());
        return out;
    }

    static Tensor unaryKernel(String op, UnaryOp kind, Tensor x, double p, double q) {
        requireFloat(op, "x", x);
        Tensor out = empty(x.backend(), x.dtype(), x.shape());
        x.backend().unary(kind, x.view(), out.view(), p, q);
        return out;
    }

    /** Reduces a broadcast gradient back to the shape of the operand it belongs to. */
    static Tensor unbroadcast(Tensor grad, Tensor operand) {
        return Reductions.sumToShape(grad, operand.shape());
    }

    // ---------------------------------------------------------------- arithmetic

    public static Tensor add(Tensor a, Tensor b) {
        Tensor out = binaryKernel("add", BinaryOp.ADD, a, b);
        return record(out, "add", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? unbroadcast(g, a) : null,
                wants(b) ? unbroadcast(g, b) : null});
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = binaryKernel("sub", BinaryOp.SUB, a, b);
        return record(out, "sub", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? unbroadcast(g, a) : null,
                wants(b) ? unbroadcast(neg(g), b) : null});
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor out = binaryKernel("mul", BinaryOp.MUL, a, b);
        return record(out, "mul", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? unbroadcast(mul(g, b), a) : null,
                wants(b) ? unbroadcast(mul(g, a), b) : null});
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor out = binaryKernel("div", BinaryOp.DIV, a, b);
        return record(out, "div", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? unbroadcast(div(g, b), a) : null,
                // d(a/b)/db = -a/b^2
                wants(b) ? unbroadcast(neg(div(mul(g, a), mul(b, b))), b) : null});
    }

    /** a^b elementwise (a &gt; 0 where b is differentiated, since d/db = a^b log a). */
    public static Tensor pow(Tensor a, Tensor b) {
        Tensor out = binaryKernel("pow", BinaryOp.POW, a, b);
        return record(out, "pow", new Tensor[]{a, b}, g -> new Tensor[]{
                wants(a) ? unbroadcast(mul(g, mul(b, pow(a, sub(b, b.constant(1))))), a) : null,
                wants(b) ? unbroadcast(mul(g, mul(pow(a, b), log(a))), b) : null});
    }

    /** x^c for a constant exponent. */
    public static Tensor powScalar(Tensor x, double c) {
        Tensor out = unaryKernel("pow", UnaryOp.POW_SCALAR, x, c, 0);
        // x^0 is constant: written as c * x^(c-1) its gradient would be 0 * inf = NaN at x = 0
        if (c == 0) return record(out, "pow", x, g -> new Tensor[]{mul(g, x.constant(0))});
        return record(out, "pow", x, g -> new Tensor[]{mul(g, mul(powScalar(x, c - 1), x.constant(c)))});
    }

    public static Tensor neg(Tensor x) {
        Tensor out = unaryKernel("neg", UnaryOp.NEG, x, 0, 0);
        return record(out, "neg", x, g -> new Tensor[]{neg(g)});
    }

    // ---------------------------------------------------------------- transcendental

    public static Tensor exp(Tensor x) {
        Tensor out = unaryKernel("exp", UnaryOp.EXP, x, 0, 0);
        return record(out, "exp", x, g -> new Tensor[]{mul(g, out)});
    }

    public static Tensor log(Tensor x) {
        Tensor out = unaryKernel("log", UnaryOp.LOG, x, 0, 0);
        return record(out, "log", x, g -> new Tensor[]{div(g, x)});
    }

    public static Tensor sqrt(Tensor x) {
        Tensor out = unaryKernel("sqrt", UnaryOp.SQRT, x, 0, 0);
        return record(out, "sqrt", x, g -> new Tensor[]{div(g, mul(out, out.constant(2)))});
    }

    /** |x|; the gradient at 0 is 0 (the subgradient PyTorch uses). */
    public static Tensor abs(Tensor x) {
        Tensor out = unaryKernel("abs", UnaryOp.ABS, x, 0, 0);
        return record(out, "abs", x, g -> new Tensor[]{mul(g, sign(x))});
    }

    public static Tensor tanh(Tensor x) {
        Tensor out = unaryKernel("tanh", UnaryOp.TANH, x, 0, 0);
        return record(out, "tanh", x, g -> new Tensor[]{mul(g, sub(out.constant(1), mul(out, out)))});
    }

    public static Tensor sigmoid(Tensor x) {
        Tensor out = unaryKernel("sigmoid", UnaryOp.SIGMOID, x, 0, 0);
        return record(out, "sigmoid", x, g -> new Tensor[]{mul(g, mul(out, sub(out.constant(1), out)))});
    }

    /** log(1 + e^x), overflow-free. */
    public static Tensor softplus(Tensor x) {
        Tensor out = unaryKernel("softplus", UnaryOp.SOFTPLUS, x, 0, 0);
        return record(out, "softplus", x, g -> new Tensor[]{mul(g, sigmoid(x))});
    }

    // ---------------------------------------------------------------- activations

    /** max(x, 0); the gradient at 0 is 0. */
    public static Tensor relu(Tensor x) {
        Tensor out = unaryKernel("relu", UnaryOp.RELU, x, 0, 0);
        return record(out, "relu", x, g -> new Tensor[]{reluBackward(g, x)});
    }

    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);
    private static final double GELU_K = 0.044715;

    /** GPT-2's GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))). */
    public static Tensor gelu(Tensor x) {
        Tensor out = unaryKernel("gelu", UnaryOp.GELU_TANH, x, 0, 0);
        return record(out, "gelu", x, g -> {
            if (!GradMode.isEnabled() && Fusion.enabled()) { // first order: one fused pass
                Tensor d = empty(x.backend(), x.dtype(), x.shape());
                x.backend().geluTanhBackward(x.detach().view(), g.view(), d.view());
                return new Tensor[]{d};
            }
            // d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3k x^2), t = tanh(inner)
            Tensor x2 = mul(x, x);
            Tensor inner = mul(add(x, mul(mul(x2, x), x.constant(GELU_K))), x.constant(GELU_C));
            Tensor t = tanh(inner);
            Tensor half = x.constant(0.5);
            Tensor dInner = mul(add(mul(x2, x.constant(3 * GELU_K)), x.constant(1)), x.constant(GELU_C));
            Tensor d = add(mul(half, add(t, x.constant(1))),
                    mul(mul(half, x), mul(sub(x.constant(1), mul(t, t)), dInner)));
            return new Tensor[]{mul(g, d)};
        });
    }

    /** min(max(x, lo), hi); the gradient is 1 inside [lo, hi] (ends included), 0 outside. */
    public static Tensor clamp(Tensor x, double lo, double hi) {
        if (lo > hi) throw new IllegalArgumentException("clamp: min " + lo + " is greater than max " + hi);
        Tensor out = unaryKernel("clamp", UnaryOp.CLAMP, x, lo, hi);
        return record(out, "clamp", x, g -> new Tensor[]{mul(g, unaryKernel("clamp", UnaryOp.INSIDE, x, lo, hi))});
    }

    /** Elementwise maximum; at ties the gradient is split equally, as PyTorch does. */
    public static Tensor maximum(Tensor a, Tensor b) {
        Tensor out = binaryKernel("maximum", BinaryOp.MAX, a, b);
        return record(out, "maximum", new Tensor[]{a, b}, g -> {
            Tensor share = tieShare(a, b, BinaryOp.GT);
            return new Tensor[]{
                    wants(a) ? unbroadcast(mul(g, share), a) : null,
                    wants(b) ? unbroadcast(mul(g, sub(share.constant(1), share)), b) : null};
        });
    }

    /** Elementwise minimum; at ties the gradient is split equally. */
    public static Tensor minimum(Tensor a, Tensor b) {
        Tensor out = binaryKernel("minimum", BinaryOp.MIN, a, b);
        return record(out, "minimum", new Tensor[]{a, b}, g -> {
            Tensor share = tieShare(a, b, BinaryOp.LT);
            return new Tensor[]{
                    wants(a) ? unbroadcast(mul(g, share), a) : null,
                    wants(b) ? unbroadcast(mul(g, sub(share.constant(1), share)), b) : null};
        });
    }

    /** 1 where a wins, 0.5 at ties, 0 where b wins (a constant: no gradient). */
    private static Tensor tieShare(Tensor a, Tensor b, BinaryOp wins) {
        Tensor win = binaryKernel("compare", wins, a.detach(), b.detach());
        Tensor tie = binaryKernel("compare", BinaryOp.EQ, a.detach(), b.detach());
        return binaryKernel("add", BinaryOp.ADD, win, binaryKernel("mul", BinaryOp.MUL, tie, tie.constant(0.5)));
    }

    /** cond != 0 ? x : y, broadcasting all three; cond is a constant mask (no gradient). */
    public static Tensor where(Tensor cond, Tensor x, Tensor y) {
        Backend backend = backendOf("where", cond, x, y);
        DType dtype = sameFloat("where", x, y);
        int[] shape = Shape.broadcast("where", cond.shape(), x.shape(), y.shape());
        Tensor out = empty(backend, dtype, shape);
        backend.where(broadcastView(cond, shape), broadcastView(x, shape), broadcastView(y, shape), out.view());
        return record(out, "where", new Tensor[]{x, y}, g -> {
            Tensor zero = g.constant(0);
            return new Tensor[]{
                    wants(x) ? unbroadcast(where(cond, g, zero), x) : null,
                    wants(y) ? unbroadcast(where(cond, zero, g), y) : null};
        });
    }

    /** x with {@code value} where mask != 0. */
    public static Tensor maskedFill(Tensor x, Tensor mask, double value) {
        return where(mask, x.constant(value), x);
    }

    // ---------------------------------------------------------------- piecewise constant (no gradient)

    /**
     * g where x &gt; 0, else 0 (ReLU's gradient, one pass instead of a step and a product). Linear
     * in g, piecewise constant in x: its own gradient is the same mask applied to the incoming one.
     */
    static Tensor reluBackward(Tensor g, Tensor x) {
        if (!Fusion.enabled()) return mul(g, step(x));
        Tensor out = binaryKernel("reluBackward", BinaryOp.RELU_BACKWARD, g, x.detach());
        return record(out, "reluBackward", g, h -> new Tensor[]{reluBackward(h, x)});
    }

    /** 1 where x &gt; 0 else 0. */
    public static Tensor step(Tensor x) {
        return unaryKernel("step", UnaryOp.STEP, x.detach(), 0, 0);
    }

    public static Tensor sign(Tensor x) {
        return unaryKernel("sign", UnaryOp.SIGN, x.detach(), 0, 0);
    }

    /** Round half to even; not differentiable (quantizers use a straight-through estimator instead). */
    public static Tensor round(Tensor x) {
        return unaryKernel("round", UnaryOp.ROUND, x.detach(), 0, 0);
    }

    public static Tensor floor(Tensor x) {
        return unaryKernel("floor", UnaryOp.FLOOR, x.detach(), 0, 0);
    }

    public static Tensor gt(Tensor a, Tensor b) {
        return binaryKernel("gt", BinaryOp.GT, a.detach(), b.detach());
    }

    public static Tensor ge(Tensor a, Tensor b) {
        return binaryKernel("ge", BinaryOp.GE, a.detach(), b.detach());
    }

    public static Tensor lt(Tensor a, Tensor b) {
        return binaryKernel("lt", BinaryOp.LT, a.detach(), b.detach());
    }

    public static Tensor le(Tensor a, Tensor b) {
        return binaryKernel("le", BinaryOp.LE, a.detach(), b.detach());
    }

    public static Tensor eq(Tensor a, Tensor b) {
        return binaryKernel("eq", BinaryOp.EQ, a.detach(), b.detach());
    }
}
