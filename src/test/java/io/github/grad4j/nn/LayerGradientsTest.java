package io.github.grad4j.nn;

import io.github.grad4j.autograd.Autograd;
import io.github.grad4j.autograd.GradCheck;
import io.github.grad4j.backend.DType;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Central-difference gradient checks (FLOAT64) through every layer with respect to its input and
 * its parameters. Parameters are varied through functionalCall, which checks at the same time that
 * layers read them via param(...) and that gradients reach the replacement tensors.
 */
class LayerGradientsTest {
    private static final DType F64 = DType.FLOAT64;

    /** Gradchecks layer(x) w.r.t. x and every named parameter (replacements start at the current values). */
    static void checkLayer(Layer layer, Tensor x) {
        Map<String, Tensor> params = layer.namedParameters();
        List<String> names = List.copyOf(params.keySet());
        Tensor[] inputs = new Tensor[names.size() + 1];
        inputs[0] = x;
        for (int i = 0; i < names.size(); i++) {
            // perturb the initial values so ones/zeros inits (LayerNorm, BatchNorm) are not a special case
            Tensor p = params.get(names.get(i)).detach();
            inputs[i + 1] = p.add(Tensor.randn(new Rng(100 + i), 0.3, F64, p.shape())).detach();
        }
        Function<Tensor[], Tensor> f = in -> {
            Map<String, Tensor> repl = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) repl.put(names.get(i), in[i + 1]);
            return layer.functionalCall(repl, () -> layer.forward(in[0]));
        };
        if (!names.isEmpty()) {
            // a layer that ignored its replacements would pass the check trivially (zero = zero)
            assertFalse(java.util.Arrays.equals(layer.forward(x).toDoubleArray(), f.apply(inputs).toDoubleArray()),
                    layer + " ignores functionalCall replacements");
        }
        GradCheck.Result r = GradCheck.float64().gradcheck(f, inputs, new Rng(7));
        assertTrue(r.passed(), layer + ": " + r);
    }

    @Test
    void linear() {
        Rng rng = new Rng(1);
        checkLayer(new Linear(3, 4, true, rng, F64), Tensor.randn(rng, 1, F64, 2, 3));
        checkLayer(new Linear(3, 2, false, rng, F64), Tensor.randn(rng, 1, F64, 2, 2, 3));
    }

    @Test
    void embeddingWithRepeatedIds() {
        Embedding emb = new Embedding(4, 3, new Rng(2), F64);
        Tensor ids = Tensor.ofInts(new int[]{1, 3, 1, 1}, 4);
        Tensor w = emb.namedParameters().get("weight").detach();
        GradCheck.Result r = GradCheck.float64().gradcheck(
                in -> emb.functionalCall(Map.of("weight", in[0]), () -> emb.forward(ids)), new Tensor[]{w.add(0.0).detach()},
                new Rng(3));
        assertTrue(r.passed(), r.toString());
    }

    @Test
    void layerNorm() {
        checkLayer(new LayerNorm(new int[]{2, 3}, 1e-5, true, F64), Tensor.randn(new Rng(3), 1, F64, 2, 2, 3));
        checkLayer(new LayerNorm(new int[]{4}, 1e-5, false, F64), Tensor.randn(new Rng(4), 1, F64, 3, 4));
    }

    @Test
    void conv2d() {
        Rng rng = new Rng(5);
        checkLayer(new Conv2d(2, 3, 3, 2, 1, true, rng, F64), Tensor.randn(rng, 1, F64, 2, 2, 5, 4));
    }

    @Test
    void batchNorm2dTrainingAndEval() {
        Rng rng = new Rng(6);
        BatchNorm2d bn = new BatchNorm2d(2, 1e-5, 0.1, true, true, F64);
        checkLayer(bn, Tensor.randn(rng, 1, F64, 3, 2, 2, 2));
        bn.eval();
        checkLayer(bn, Tensor.randn(rng, 1, F64, 3, 2, 2, 2));
    }

    @Test
    void activationsPoolingAndFlatten() {
        Rng rng = new Rng(7);
        // keep inputs away from relu's kink and pooling ties, where the derivative is not defined
        Tensor x = Tensor.randn(rng, 1, F64, 2, 1, 4, 4);
        checkLayer(new GELU(), x);
        checkLayer(new ReLU(), Tensor.of(new double[]{-1.3, -0.4, 0.2, 0.9, 2.1, -2.2}, F64, 2, 3));
        checkLayer(new MaxPool2d(2), x);
        checkLayer(new Flatten(), x);
    }

    @Test
    void wholeConvNetThroughSequential() {
        Rng rng = new Rng(8);
        Sequential net = new Sequential(new Conv2d(1, 2, 3, 1, 1, true, rng, F64), new BatchNorm2d(2, 1e-5, 0.1, true, true, F64),
                new GELU(), new MaxPool2d(2), new Flatten(), new Linear(8, 3, true, rng, F64));
        checkLayer(net, Tensor.randn(rng, 1, F64, 2, 1, 4, 4));
    }

    @Test
    void functionalCallEqualsLoadingTheWeightsAndGradientsReachTheReplacements() {
        Rng rng = new Rng(9);
        Sequential model = new Sequential(new Linear(3, 5, true, rng, F64), new ReLU(), new Linear(5, 2, true, rng, F64));
        Sequential loaded = new Sequential(new Linear(3, 5, true, rng, F64), new ReLU(), new Linear(5, 2, true, rng, F64));
        Map<String, Tensor> replacement = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
            replacement.put(e.getKey(), Tensor.randn(rng, 1, F64, e.getValue().shape()).requiresGrad(true));
        }
        Map<String, double[]> originalValues = new LinkedHashMap<>();
        model.namedParameters().forEach((k, v) -> originalValues.put(k, v.toDoubleArray()));
        Tensor x = Tensor.randn(rng, 1, F64, 4, 3);

        Tensor viaReplacement = model.functionalCall(replacement, () -> model.forward(x));
        loaded.loadStateDict(replacement, true);
        Tensor viaLoading = loaded.forward(x);
        assertArrayEquals(viaLoading.toDoubleArray(), viaReplacement.toDoubleArray(), 0.0);

        List<String> names = List.copyOf(replacement.keySet());
        Tensor[] replacementTensors = names.stream().map(replacement::get).toArray(Tensor[]::new);
        Tensor[] grads = Autograd.grad(viaReplacement.square().sum(), replacementTensors, false);
        viaLoading.square().sum().backward();
        for (int i = 0; i < names.size(); i++) {
            assertNotNull(grads[i], names.get(i));
            assertArrayEquals(loaded.namedParameters().get(names.get(i)).grad().toDoubleArray(), grads[i].toDoubleArray(), 1e-12,
                    names.get(i));
            // the module's own parameters were neither used nor changed
            assertNull(model.namedParameters().get(names.get(i)).grad(), names.get(i));
            assertArrayEquals(originalValues.get(names.get(i)), model.namedParameters().get(names.get(i)).toDoubleArray());
        }
        // outside the call the module uses its own weights again
        assertFalse(java.util.Arrays.equals(viaReplacement.toDoubleArray(), model.forward(x).toDoubleArray()));
    }
}
