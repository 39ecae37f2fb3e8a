package io.github.grad4j.autograd;

import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Numerical verification of gradients by central differences in float64, as torch.autograd's
 * gradcheck and gradgradcheck.
 *
 * <p>For a function f of several tensors, the analytic vector-Jacobian product of autograd is
 * compared, for a random output weighting v, with (f(x + eps e_i) - f(x - eps e_i)) / 2 eps
 * contracted with v, for every input element i.
 */
public final class GradCheck {

    /** What one check found: the worst absolute and relative disagreement and where. */
    public record Result(boolean passed, double maxAbsError, double maxRelError, String worst) {
    }

    private final double eps;
    private final double atol;
    private final double rtol;

    public GradCheck(double eps, double atol, double rtol) {
        this.eps = eps;
        this.atol = atol;
        this.rtol = rtol;
    }

    /** Defaults suited to float64: eps 1e-6, atol 1e-5, rtol 1e-3 (PyTorch uses the same). */
    public static GradCheck float64() {
        return new GradCheck(1e-6, 1e-5, 1e-3);
    }

    /**
     * Checks the first derivatives of {@code f} at {@code inputs} (FLOAT64 leaves; they are marked
     * as requiring gradients). The output weighting is drawn from {@code rng}.
     */
    public Result gradcheck(Function<Tensor[], Tensor> f, Tensor[] inputs, Rng rng) {
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i].dtype() != DType.FLOAT64) {
                throw new IllegalArgumentException("gradcheck: input " + i + " is " + inputs[i].dtype()
                        + "; central differences need FLOAT64");
            }
            inputs[i].requiresGrad(true);
        }
        Tensor out = f.apply(inputs);
        Tensor v = Tensor.randn(rng, 1.0, DType.FLOAT64, out.shape()).to(out.backend());
        Tensor[] analytic = Autograd.grad(new Tensor[]{out}, inputs, new Tensor[]{v}, false, false, true);
        double[] vv = v.toDoubleArray();
        return compare(inputs, analytic, x -> dot(f.apply(x), vv));
    }

    /**
     * Checks the second derivatives: the gradient function x, v -&gt; J(x)^T v (computed with
     * createGraph) is itself gradchecked with respect to both x and v. First, its value must equal
     * the first-order gradient (within the same tolerances): ops whose createGraph backward is a
     * separate rule built from differentiable ops (the fused kernels) would otherwise pass with a
     * wrong rule, since the check differentiates that rule against itself.
     */
    public Result gradgradcheck(Function<Tensor[], Tensor> f, Tensor[] inputs, Rng rng) {
        for (Tensor t : inputs) t.requiresGrad(true);
        Tensor probe;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            probe = f.apply(inputs);
        }
        Tensor v = Tensor.randn(rng, 1.0, DType.FLOAT64, probe.shape()).to(probe.backend());
        int n = inputs.length;
        Function<Tensor[], Tensor> gradient = args -> {
            Tensor[] x = Arrays.copyOf(args, n);
            Tensor out = f.apply(x);
            Tensor[] g = Autograd.grad(new Tensor[]{out}, x, new Tensor[]{args[n]}, true, true, true);
            // concatenate all input gradients into one flat vector (unused inputs contribute zeros)
            Tensor flat = null;
            for (int i = 0; i < n; i++) {
                Tensor gi = g[i] == null ? Tensor.zeros(x[i].backend(), DType.FLOAT64, x[i].shape()) : g[i];
                Tensor r = gi.reshape(gi.numel());
                flat = flat == null ? r : io.github.grad4j.ops.Views.concat(0, flat, r);
            }
            return flat;
        };
        Tensor[] all = Arrays.copyOf(inputs, n + 1);
        all[n] = v;
        Result agreement = createGraphAgreesWithFirstOrder(f, inputs, v);
        return agreement.passed() ? gradcheck(gradient, all, rng) : agreement;
    }

    /** J^T v computed with createGraph against the first-order J^T v, element by element. */
    private Result createGraphAgreesWithFirstOrder(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor v) {
        Tensor[] firstOrder = Autograd.grad(new Tensor[]{f.apply(inputs)}, inputs, new Tensor[]{v}, false, false, true);
        Tensor[] withGraph = Autograd.grad(new Tensor[]{f.apply(inputs)}, inputs, new Tensor[]{v}, true, true, true);
        double maxAbs = 0, maxRel = 0;
        String worst = "";
        boolean ok = true;
        for (int i = 0; i < inputs.length; i++) {
            int size = inputs[i].numel();
            double[] a = firstOrder[i] == null ? new double[size] : firstOrder[i].toDoubleArray();
            double[] b = withGraph[i] == null ? new double[size] : withGraph[i].toDoubleArray();
            for (int e = 0; e < size; e++) {
                double err = Math.abs(a[e] - b[e]);
                if (!(err <= atol + rtol * Math.abs(a[e]))) ok = false;
                if (err > maxAbs || Double.isNaN(err)) {
                    maxAbs = err;
                    maxRel = err / Math.max(Math.abs(a[e]), 1e-12);
                    worst = "input " + i + " element " + e + ": first-order gradient " + a[e] + ", with createGraph " + b[e];
                }
            }
        }
        return new Result(ok, maxAbs, maxRel, ok ? worst : "createGraph's gradient differs from the first-order one: " + worst);
    }

    private static void setElement(Tensor x, double value, int[] index) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            x.set(value, index);
        }
    }

    private static double dot(Tensor out, double[] v) {
        double[] o = out.toDoubleArray();
        double s = 0;
        for (int i = 0; i < o.length; i++) s += o[i] * v[i];
        return s;
    }

    private Result compare(Tensor[] inputs, Tensor[] analytic, java.util.function.ToDoubleFunction<Tensor[]> scalar) {
        double maxAbs = 0, maxRel = 0;
        String worst = "";
        boolean ok = true;
        for (int i = 0; i < inputs.length; i++) {
            Tensor x = inputs[i];
            double[] a = analytic[i] == null ? new double[x.numel()] : analytic[i].toDoubleArray();
            int[] shape = x.shape();
            int[] index = new int[shape.length];
            for (int e = 0; e < x.numel(); e++) {
                double orig = x.get(index);
                // the function is evaluated with recording on: for gradgradcheck it calls grad() itself
                setElement(x, orig + eps, index);
                double plus = scalar.applyAsDouble(inputs);
                setElement(x, orig - eps, index);
                double minus = scalar.applyAsDouble(inputs);
                setElement(x, orig, index);
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.abs(numeric - a[e]);
                double rel = err / Math.max(Math.abs(numeric), 1e-12);
                if (!(err <= atol + rtol * Math.abs(numeric))) {
                    ok = false;
                }
                if (err > maxAbs || Double.isNaN(err)) {
                    maxAbs = err;
                    maxRel = rel;
                    worst = "input " + i + " " + Shape.str(shape) + " element " + Arrays.toString(index)
                            + ": analytic " + a[e] + ", numeric " + numeric;
                }
                for (int d = shape.length - 1; d >= 0; d--) {
                    if (++index[d] < shape[d]) break;
                    index[d] = 0;
                }
            }
        }
        return new Result(ok, maxAbs, maxRel, worst);
    }
}
