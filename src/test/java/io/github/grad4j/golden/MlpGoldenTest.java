package io.github.grad4j.golden;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.backend.DType;
import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.ops.Convolution;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * One small network against PyTorch (vectors from test-vectors/mlp_golden.py), after llm.c's
 * test_gpt2.c: logits, loss, every parameter gradient, then five SGD-momentum steps (the loss at
 * each step, and every parameter and batch-norm running statistic after the last update).
 *
 * <p>conv2d(1->4, 3x3, pad 1, no bias: before training-mode batch norm its exact gradient is 0,
 * and both sides would return rounding noise) -> batch_norm (training) -> relu -> max_pool2d(2) -> flatten
 * -> linear(64->16) -> gelu (tanh) -> linear(16->3) -> cross_entropy, on 6 images 1x8x8.
 *
 * <p>Tolerances (scaled error, see {@link Golden}):
 * <ul>
 * <li>float64: 1e-12 for everything. Unit roundoff 1.1e-16; the longest sums have 384 terms (the
 * conv-weight gradient and the batch statistics sum over 6*8*8 positions), so even a worst-case
 * n*u bound is 4e-14; batch norm's division by the batch standard deviation and five optimizer
 * steps each multiply that by a small factor.
 * <li>float32: unit roundoff u = 6e-8. PyTorch accumulates in float32 while our reference backend
 * sums in float64 and rounds each op's result once, so the difference is PyTorch's own rounding:
 * up to n*u for a sum of n terms, typically sqrt(n)*u. Logits and loss pass through sums of 9, 64
 * and 16 terms and batch statistics over 384 values: 1e-5 (about 170 u). Gradients add the
 * backward sums of up to 384 terms (n*u = 2.3e-5) and batch norm's backward, which subtracts
 * nearly equal means: 1e-4. The losses over 5 steps and the parameters after them carry these
 * gradient errors times lr (updates are small next to the parameters): 1e-4 as well.
 * </ul>
 */
class MlpGoldenTest {
    private static final List<String> PARAMETERS = List.of("conv.weight", "bn.weight", "bn.bias",
            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias");
    private static final List<String> RUNNING = List.of("bn.running_mean", "bn.running_var");

    @Test
    void float64() {
        check("mlp_float64.safetensors", DType.FLOAT64, 1e-12, 1e-12, 1e-12);
    }

    @Test
    void float32() {
        check("mlp_float32.safetensors", DType.FLOAT32, 1e-5, 1e-4, 1e-4);
    }

    /** Parameters and running statistics of the network, as fresh copies of the stored initial values. */
    private static final class Net {
        final Map<String, Tensor> params = new LinkedHashMap<>();
        final Tensor runningMean, runningVar;
        final double bnMomentum, bnEps;

        Net(SafeTensors.Contents c) {
            for (String p : PARAMETERS) params.put(p, copy(Golden.get(c, p)).requiresGrad(true));
            runningMean = copy(Golden.get(c, "bn.running_mean"));
            runningVar = copy(Golden.get(c, "bn.running_var"));
            bnMomentum = Double.parseDouble(c.metadata().get("bn_momentum"));
            bnEps = Double.parseDouble(c.metadata().get("bn_eps"));
        }

        private static Tensor copy(Tensor t) {
            return Views.clone(t).detach();
        }

        Tensor p(String name) {
            return params.get(name);
        }

        /** The forward pass in training mode; updates the running statistics. */
        Tensor logits(Tensor x) {
            Tensor h = Convolution.conv2d(x, p("conv.weight"), null, 1, 1);
            h = Functional.batchNorm(h, runningMean, runningVar, p("bn.weight"), p("bn.bias"), true, bnMomentum, bnEps);
            h = Convolution.maxPool2d(h.relu(), 2, 2, 0).flatten(1);
            h = Functional.linear(h, p("fc1.weight"), p("fc1.bias")).gelu();
            return Functional.linear(h, p("fc2.weight"), p("fc2.bias"));
        }

        Tensor[] paramArray() {
            return params.values().toArray(new Tensor[0]);
        }
    }

    private static void check(String file, DType dtype, double tolForward, double tolGrad, double tolTraining) {
        SafeTensors.Contents c = Golden.load(file);
        String tag = dtype == DType.FLOAT32 ? "mlp f32 " : "mlp f64 ";
        Tensor x = Golden.get(c, "x"), targets = Golden.get(c, "targets");
        assertEquals(dtype, x.dtype());

        // one forward and backward pass
        Net net = new Net(c);
        Tensor logits = net.logits(x);
        Tensor loss = Functional.crossEntropy(logits, targets);
        Golden.assertClose(tag + "logits", logits, Golden.get(c, "logits"), tolForward);
        Golden.assertClose(tag + "loss", loss, Golden.get(c, "loss"), tolForward);
        Tensor[] grads = Autograd.grad(loss, net.paramArray(), false);
        for (int i = 0; i < grads.length; i++) {
            String name = PARAMETERS.get(i);
            Golden.assertClose(tag + "grad " + name, grads[i], Golden.get(c, "grad." + name), tolGrad);
        }

        // training: torch.optim.SGD with momentum (dampening 0, no Nesterov, no weight decay):
        // buf = momentum * buf + grad (buf = grad on the first step); p -= lr * buf
        double lr = Double.parseDouble(c.metadata().get("lr"));
        double momentum = Double.parseDouble(c.metadata().get("momentum"));
        int steps = Integer.parseInt(c.metadata().get("steps"));
        Net train = new Net(c);
        Tensor[] params = train.paramArray();
        Tensor[] buffers = new Tensor[params.length];
        double[] losses = new double[steps];
        for (int step = 0; step < steps; step++) {
            Tensor stepLoss = Functional.crossEntropy(train.logits(x), targets);
            losses[step] = stepLoss.item();
            Tensor[] g = Autograd.grad(stepLoss, params, false);
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                for (int i = 0; i < params.length; i++) {
                    buffers[i] = buffers[i] == null ? g[i] : buffers[i].mul(momentum).add(g[i]);
                    params[i].assign(params[i].sub(buffers[i].mul(lr)));
                }
            }
        }
        Golden.assertClose(tag + "losses (" + steps + " SGD steps)", Tensor.of(losses, dtype, steps),
                Golden.get(c, "losses"), tolTraining);
        for (String name : PARAMETERS) {
            Golden.assertClose(tag + "final " + name, train.p(name), Golden.get(c, "final." + name), tolTraining);
        }
        Golden.assertClose(tag + "final bn.running_mean", train.runningMean, Golden.get(c, "final.bn.running_mean"),
                tolTraining);
        Golden.assertClose(tag + "final bn.running_var", train.runningVar, Golden.get(c, "final.bn.running_var"),
                tolTraining);
    }
}
