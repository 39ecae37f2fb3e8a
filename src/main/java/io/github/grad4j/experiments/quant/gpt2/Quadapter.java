package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Quadapter (Park et al., EMNLP Findings 2022): a learned per-channel scale alpha (initially 1) in
 * front of an activation quantizer, undone on the other side of the following linear layer, so
 * that outlier channels can be shrunk before per-tensor quantization and quiet ones enlarged.
 * Training computes y = Q_a(alpha x) Q_w(W / alpha) + b, which is exactly what the folded model
 * computes (the weight is quantized after the 1/alpha is folded in, as at deployment); without
 * quantizers, alpha x (W / alpha) = x W, so the adapter changes nothing but quantization.
 *
 * <p><b>Sites.</b> alpha must be absorbable by the operation producing x, exactly, so that the
 * deployed model has no extra op. Only two of the four quantized inputs of a GPT-2 block qualify:
 * <ul>
 * <li>{@code ln_1 -> attn.c_attn} and {@code ln_2 -> mlp.c_fc}: x = g * norm(u) + b, and
 *     alpha * x = (alpha g) * norm(u) + alpha b: alpha folds into the LayerNorm's gain and bias.</li>
 * <li>Not {@code mlp.c_proj}: its input is GELU(c_fc(.)), and GELU(alpha v) != alpha GELU(v), so
 *     a scale cannot be moved through the nonlinearity.</li>
 * <li>Not {@code attn.c_proj} (in this implementation): its input is softmax(q k^T) v with heads
 *     merged; a per-channel scale could be moved into the v columns of c_attn, but that changes
 *     c_attn's output quantization rather than being free, and the paper's two sites are the
 *     LayerNorm ones.</li>
 * </ul>
 * The model's own weights stay frozen in both training phases ({@link QatTraining#calibrateBlocks}
 * then {@link QatTraining#train} with adapters); only alphas and quantizer ranges learn.
 */
public final class Quadapter {
    /** The layers (relative to a block) that get an adapter, and the LayerNorm that absorbs it. */
    public static final Map<String, String> FOLDABLE = Map.of("attn.c_attn", "ln_1", "mlp.c_fc", "ln_2");

    private Quadapter() {
    }

    /** Adds alpha = 1 at every foldable site (c_attn and c_fc of every block). */
    public static void attach(QuantizedGpt2 q) {
        for (QuantizedGpt2.Site s : q.sites().values()) if (FOLDABLE.containsKey(s.layerPath())) s.addAdapter();
    }

    /**
     * The deployable model: a copy of the GPT-2 with each alpha multiplied into the preceding
     * LayerNorm's weight and bias and each 1/alpha into the input rows of the following Conv1D
     * weight, wrapped with copies of the same quantizers and no adapters. The original is unchanged.
     */
    public static QuantizedGpt2 fold(QuantizedGpt2 q) {
        Gpt2Model source = q.model();
        Gpt2Model copy = new Gpt2Model(source.config(), new Rng(0), source.dtype());
        copy.loadStateDict(source.stateDict(), true);
        Map<String, Tensor> params = copy.namedParameters();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (QuantizedGpt2.Site s : q.sites().values()) {
                if (!s.hasAdapter()) continue;
                Tensor alpha = s.alpha().detach();
                String ln = "h." + s.block() + "." + FOLDABLE.get(s.layerPath());
                scale(params.get(ln + ".weight"), alpha);
                scale(params.get(ln + ".bias"), alpha);
                Tensor w = params.get("h." + s.block() + "." + s.layerPath() + ".weight");
                w.assign(w.div(alpha.reshape(alpha.numel(), 1)));
            }
        }
        QuantizedGpt2 folded = new QuantizedGpt2(copy, q.spec());
        folded.copyQuantizersFrom(q);
        folded.setQuantizationEnabled(q.isQuantizationEnabled());
        return folded;
    }

    private static void scale(Tensor t, Tensor alpha) {
        t.assign(t.mul(alpha));
    }

    /** Every adapter's alpha values, by site name. */
    public static Map<String, double[]> alphas(QuantizedGpt2 q) {
        Map<String, double[]> out = new java.util.LinkedHashMap<>();
        for (QuantizedGpt2.Site s : q.sites().values()) if (s.hasAdapter()) out.put(s.name(), s.alpha().toDoubleArray());
        return out;
    }

    /** The sites that carry adapters, by name. */
    public static List<String> adapterSites(QuantizedGpt2 q) {
        return q.sites().values().stream().filter(QuantizedGpt2.Site::hasAdapter).map(QuantizedGpt2.Site::name).toList();
    }
}
