package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.io.SafeTensors;
import io.github.grad4j.tensor.Backends;
import io.github.grad4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * grad4j's GPT-2 against PyTorch, as llm.c's test_gpt2.c: test-vectors/gpt2_golden.py builds small
 * GPT-2s in plain PyTorch (float32), saves each as a Hugging Face directory and writes the logits,
 * loss, every parameter gradient and the losses of 10 AdamW steps. This test loads the same
 * directory through {@link Gpt2Checkpoint} (so the loader is under test too) and must reproduce them.
 *
 * <p>Tolerances. Both sides hold float32 values; PyTorch computes in float32 while the reference
 * backend accumulates in float64 and rounds each op's result to float32, so the two differ by
 * float32 rounding (one ulp of an O(1) value is 1.2e-7) compounded over the layers. On the
 * reference backend the largest differences seen were: logits 1.2e-7, loss 4.8e-7, gradients 1.0e-6
 * of the tensor's max, AdamW step losses 7.2e-7. The bounds leave 10-100x headroom for a float32
 * backend that also accumulates in float32, and are still far below what a real error causes:
 * <ul>
 *   <li>logits: 1e-5 absolute. Logits here are O(1); a wrong mask, scale, GELU constant or a
 *       swapped LayerNorm parameter moves them by 1e-3 or more (the script perturbs every bias and
 *       LayerNorm parameter away from 0/1 so that none can be ignored unnoticed).</li>
 *   <li>loss: 1e-5 absolute (a mean of log-probabilities of size 2-5).</li>
 *   <li>gradients: each tensor's max |difference| within 1e-4 of that tensor's max |gradient|;
 *       relative to the tensor's scale, not per element, because elements near zero carry mostly
 *       rounding noise (llm.c uses 2e-2 absolute).</li>
 *   <li>AdamW step losses: 1e-5 absolute. Adam divides by sqrt(v), which turns float32 noise in
 *       small gradients into update noise; over 10 steps at lr 3e-3 it stayed below 1e-6, while a
 *       wrong bias correction or weight decay changes the losses by 1e-3 or more.</li>
 * </ul>
 */
class Gpt2GoldenTest {
    static final double LOGITS_ABS = 1e-5;
    static final double LOSS_ABS = 1e-5;
    static final double GRAD_REL_TO_MAX = 1e-4;
    static final double STEP_LOSS_ABS = 1e-5;

    static Path goldenDir(String name) {
        try {
            var url = Gpt2GoldenTest.class.getResource("/golden/gpt2/" + name + "/config.json");
            assertNotNull(url, "golden vectors for " + name + " missing; run test-vectors/gpt2_golden.py");
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"odd-3l-3h-48", "small-2l-2h-16", "tiny-1l-1h-8"})
    void matchesPyTorch(String name) throws Exception {
        Path dir = goldenDir(name);
        SafeTensors.Contents debug = SafeTensors.read(dir.resolve("debug_state.safetensors"), Backends.defaultBackend());
        Map<String, Tensor> d = debug.tensors();
        Gpt2Model model = Gpt2Checkpoint.load(dir);
        Tensor inputs = d.get("inputs");
        Tensor targets = d.get("targets");

        Tensor logits = model.logits(inputs);
        double logitsErr = maxAbsDiff(d.get("logits").toDoubleArray(), logits.toDoubleArray());
        assertTrue(logitsErr <= LOGITS_ABS, name + ": logits differ by " + logitsErr);

        Tensor loss = model.loss(inputs, targets);
        double lossErr = Math.abs(d.get("loss").item() - loss.item());
        assertTrue(lossErr <= LOSS_ABS, name + ": loss " + loss.item() + " vs PyTorch " + d.get("loss").item());

        model.zeroGrad();
        loss.backward();
        double worstGrad = 0;
        String worstName = "";
        for (Map.Entry<String, Tensor> p : model.namedParameters().entrySet()) {
            Tensor expected = d.get("grad." + p.getKey());
            assertNotNull(expected, "no PyTorch gradient for " + p.getKey());
            assertNotNull(p.getValue().grad(), "no gradient for " + p.getKey());
            double[] e = expected.toDoubleArray();
            double scale = maxAbs(e);
            assertTrue(scale > 0, p.getKey() + ": PyTorch gradient is all zeros, the test would be vacuous");
            double rel = maxAbsDiff(e, p.getValue().grad().toDoubleArray()) / scale;
            if (rel > worstGrad) {
                worstGrad = rel;
                worstName = p.getKey();
            }
            assertTrue(rel <= GRAD_REL_TO_MAX, name + ": gradient of " + p.getKey() + " differs by " + rel + " of its max");
        }

        Map<String, String> meta = debug.metadata();
        TestAdamW adamw = new TestAdamW(Double.parseDouble(meta.get("lr")), Double.parseDouble(meta.get("beta1")),
                Double.parseDouble(meta.get("beta2")), Double.parseDouble(meta.get("eps")));
        assertEquals("parameters with dim >= 2", meta.get("weight_decay_applies_to"));
        List<Tensor> decay = new ArrayList<>(), noDecay = new ArrayList<>();
        for (Tensor p : model.parameters()) (p.dim() >= 2 ? decay : noDecay).add(p);
        adamw.addGroup(decay, Double.parseDouble(meta.get("weight_decay")));
        adamw.addGroup(noDecay, 0.0);
        double[] expectedLosses = d.get("adamw_losses").toDoubleArray();
        double worstStep = 0;
        for (int step = 0; step < expectedLosses.length; step++) {
            model.zeroGrad();
            Tensor l = model.loss(inputs, targets);
            l.backward();
            adamw.step();
            double err = Math.abs(l.item() - expectedLosses[step]);
            worstStep = Math.max(worstStep, err);
            assertTrue(err <= STEP_LOSS_ABS, name + ": AdamW step " + step + " loss " + l.item() + " vs PyTorch "
                    + expectedLosses[step]);
        }
        System.out.printf("golden %s: logits %.2e, loss %.2e, grad %.2e (%s), AdamW losses %.2e%n",
                name, logitsErr, lossErr, worstGrad, worstName, worstStep);
    }

    static double maxAbsDiff(double[] a, double[] b) {
        assertEquals(a.length, b.length, "element counts differ");
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double x : a) m = Math.max(m, Math.abs(x));
        return m;
    }
}
