package io.github.grad4j.golden;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.ops.Convolution;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Indexing;
import io.github.grad4j.ops.LinearAlgebra;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single ops against PyTorch in float64 (vectors from test-vectors/ops_golden.py): every output,
 * and the gradient of sum(output * w) for the stored random weighting w with respect to every
 * float input.
 *
 * <p>Tolerances (scaled error, see {@link Golden}). Float64 unit roundoff is u = 1.1e-16. Both
 * sides evaluate the same formulas in a possibly different order, so they differ by a few
 * rounding errors per step times the length of the longest sum: at most tens of terms here, hence
 * errors of order 1e-15. We allow {@link #TIGHT} = 1e-12, three orders above that, for all ops
 * but solve; that still catches any wrong formula, index or broadcast (which give errors of order
 * 1e-2 or more). Pure index ops (gather, index_select, embedding) copy values, and their
 * gradients add at most a few values, so they are held to the same bound. {@link #SOLVE} = 1e-10:
 * LU with pivoting is backward stable, so the forward error grows with the condition number of a
 * (here below 10) and the backward applies a second solve and a product, hence a looser bound.
 */
class OpsGoldenTest {
    static final double TIGHT = 1e-12;
    static final double SOLVE = 1e-10;

    /**
     * Loads golden/ops/{name}.safetensors, marks every input that has a stored gradient as
     * requiring one, runs {@code op} (all stored tensors and metadata in, named outputs out) and
     * compares every output and every gradient.
     */
    private static void check(String name, double tol, Function<Case, Map<String, Tensor>> op) {
        SafeTensors.Contents c = Golden.load("ops/" + name + ".safetensors");
        assertEquals(name, c.metadata().get("op"), "golden file's op");
        Map<String, Tensor> all = c.tensors();
        Map<String, Tensor> leaves = new LinkedHashMap<>();
        for (String k : all.keySet()) {
            if (k.startsWith("grad_")) leaves.put(k.substring(5), Golden.get(c, k.substring(5)).requiresGrad(true));
        }
        Map<String, Tensor> outs = op.apply(new Case(all, c.metadata()));
        int checked = 0;
        Tensor loss = null;
        for (Map.Entry<String, Tensor> o : outs.entrySet()) {
            Golden.assertClose(name + " " + o.getKey(), o.getValue(), Golden.get(c, o.getKey()), tol);
            checked++;
            Tensor w = all.get("w_" + o.getKey());
            if (w != null) {
                Tensor term = o.getValue().mul(w).sum();
                loss = loss == null ? term : loss.add(term);
            }
        }
        long storedOutputs = all.keySet().stream()
                .filter(k -> k.equals("out") || (k.endsWith("_out") && !k.startsWith("w_"))).count();
        assertEquals(storedOutputs, checked, name + ": outputs compared");
        assertTrue(loss != null && !leaves.isEmpty(), name + ": nothing to differentiate");
        List<String> names = new ArrayList<>(leaves.keySet());
        Tensor[] grads = Autograd.grad(loss, leaves.values().toArray(new Tensor[0]), false);
        for (int i = 0; i < grads.length; i++) {
            Golden.assertClose(name + " grad " + names.get(i), grads[i], Golden.get(c, "grad_" + names.get(i)), tol);
        }
    }

    /** The stored tensors (inputs with their gradient flag set) and the op's settings. */
    record Case(Map<String, Tensor> tensors, Map<String, String> meta) {
        Tensor t(String name) {
            Tensor x = tensors.get(name);
            if (x == null) throw new AssertionError("golden file has no tensor '" + name + "'");
            return x;
        }

        int i(String key) {
            return Integer.parseInt(meta.get(key));
        }

        double d(String key) {
            return Double.parseDouble(meta.get(key));
        }
    }

    private static Map<String, Tensor> out(Tensor y) {
        return Map.of("out", y);
    }

    @Test
    void matmulWithBatchBroadcasting() {
        check("matmul", TIGHT, c -> out(c.t("a").matmul(c.t("b"))));
    }

    @Test
    void softmax() {
        check("softmax", TIGHT, c -> out(Functional.softmax(c.t("x"), c.i("dim"))));
    }

    @Test
    void logSoftmax() {
        check("log_softmax", TIGHT, c -> out(Functional.logSoftmax(c.t("x"), c.i("dim"))));
    }

    @Test
    void crossEntropyWithIgnoreIndex() {
        check("cross_entropy", TIGHT, c -> out(Functional.crossEntropy(c.t("logits"), c.t("targets"),
                c.i("ignore_index"), Functional.Reduction.MEAN)));
    }

    @Test
    void layerNormWithAffine() {
        check("layer_norm", TIGHT, c -> out(Functional.layerNorm(c.t("x"), c.t("weight").shape(), c.t("weight"),
                c.t("bias"), c.d("eps"))));
    }

    @Test
    void batchNormTrainingUpdatesRunningStatistics() {
        check("batch_norm", TIGHT, c -> {
            Tensor runningMean = c.t("running_mean"), runningVar = c.t("running_var");
            Tensor y = Functional.batchNorm(c.t("x"), runningMean, runningVar, c.t("weight"), c.t("bias"), true,
                    c.d("momentum"), c.d("eps"));
            Map<String, Tensor> outs = new LinkedHashMap<>();
            outs.put("out", y);
            outs.put("running_mean_out", runningMean); // updated in place
            outs.put("running_var_out", runningVar);
            return outs;
        });
    }

    @Test
    void conv2dStride2Padding1Bias() {
        check("conv2d", TIGHT, c -> out(Convolution.conv2d(c.t("x"), c.t("weight"), c.t("bias"), c.i("stride"),
                c.i("padding"))));
    }

    @Test
    void maxPool2dOverlappingWindows() {
        check("max_pool2d", TIGHT, c -> out(Convolution.maxPool2d(c.t("x"), c.i("kernel"), c.i("stride"),
                c.i("padding"))));
    }

    @Test
    void geluTanhApproximation() {
        check("gelu_tanh", TIGHT, c -> out(c.t("x").gelu()));
    }

    @Test
    void logsumexp() {
        check("logsumexp", TIGHT, c -> out(c.t("x").logsumexp(c.i("dim"), false)));
    }

    @Test
    void unbiasedVarianceOverTwoAxes() {
        check("var", TIGHT, c -> {
            assertEquals("0,2", c.meta().get("dims"));
            assertEquals("True", c.meta().get("unbiased"));
            return out(c.t("x").var(true, false, 0, 2));
        });
    }

    @Test
    void batchedSolve() {
        check("solve", SOLVE, c -> out(LinearAlgebra.solve(c.t("a"), c.t("b"))));
    }

    @Test
    void gather() {
        check("gather", TIGHT, c -> out(c.t("x").gather(c.i("dim"), c.t("index"))));
    }

    @Test
    void indexSelect() {
        check("index_select", TIGHT, c -> out(c.t("x").indexSelect(c.i("dim"), c.t("index"))));
    }

    @Test
    void embedding() {
        check("embedding", TIGHT, c -> out(Indexing.embedding(c.t("weight"), c.t("ids"))));
    }

    @Test
    void scatterAdd() {
        check("scatter_add", TIGHT, c -> out(Indexing.scatterAdd(c.t("base"), c.i("dim"), c.t("index"), c.t("src"))));
    }
}
