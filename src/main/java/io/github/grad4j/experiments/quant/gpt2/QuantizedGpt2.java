package io.github.grad4j.experiments.quant.gpt2;

import io.github.grad4j.autograd.GradMode;
import io.github.grad4j.experiments.gpt2.Conv1D;
import io.github.grad4j.experiments.gpt2.Gpt2Model;
import io.github.grad4j.experiments.quant.BetaGammaQuantizer;
import io.github.grad4j.experiments.quant.MinMaxQuantizer;
import io.github.grad4j.experiments.quant.Parameterization;
import io.github.grad4j.experiments.quant.QuantConfig;
import io.github.grad4j.experiments.quant.Quantizer;
import io.github.grad4j.experiments.quant.Range;
import io.github.grad4j.experiments.quant.RangeInit;
import io.github.grad4j.experiments.quant.ScaleOffsetQuantizer;
import io.github.grad4j.nn.Module;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A GPT-2 with fake quantization at every linear layer (the four Conv1D of each block), and
 * optionally at the lm head.
 *
 * <p><b>Sites.</b> In each block {@code h.i}, the layers {@code attn.c_attn}, {@code attn.c_proj},
 * {@code mlp.c_fc} and {@code mlp.c_proj} compute y = Q_a(x) Q_w(W) + b:
 * <ul>
 * <li>the weight W [in, out] is quantized per output channel (channel axis 1), because the columns
 *     of a GPT-2 weight differ in scale and a per-column range costs nothing at inference (it
 *     rescales the integer accumulator of that output);</li>
 * <li>the input x is quantized per tensor (parameters of shape [1, 1], see
 *     {@link Site#inputQuantizer()}), with one range for all channels, because an integer
 *     matmul needs one scale along the summed (input) axis. These four inputs are exactly the
 *     operands an integer GEMM would read; the bias stays in float (it is added to the
 *     accumulator at higher precision).</li>
 * </ul>
 * <b>The lm head</b> (only with {@link QuantSpec#quantizeLmHead()}): the site {@code lm_head}
 * computes logits = Q_a(ln_f(h)) Q_w(wte)^T, its input [B*T, C] per tensor and the tied weight
 * wte [vocab, C] per output channel, i.e. per vocabulary row (channel axis 0). Only the head reads
 * the quantized wte (through {@link Gpt2Model#setHeadTransforms}); the embedding lookup stays in
 * full precision, and in training wte gets gradients through both uses. Off by default: it is the
 * largest layer of a small-vocabulary model, LLM quantization work usually keeps it in higher
 * precision, and the paper's experiments concern the block layers.
 *
 * <p>Not quantized: embeddings, LayerNorms, the attention products q k^T and softmax v (activation-
 * activation products, usually kept at higher precision), the residual additions and, by default,
 * the lm head.
 *
 * <p><b>Names.</b> The wrapped model is the child {@code model} (so its parameters are
 * {@code model.h.0.attn.c_attn.weight}, ...); each site is the child
 * {@code sites.h.<i>.<attn|mlp>.<layer>} holding the quantizers {@code weight} and {@code input}
 * (e.g. {@code sites.h.0.attn.c_attn.input.thetaMax}) and, with a Quadapter, the per-channel
 * scale {@code alpha}; the lm head's site is {@code sites.lm_head} ({@code sites.lm_head.input.thetaMax},
 * {@code sites.lm_head.weight.thetaMax}, ...) and never gets an adapter. Quantizers are created by
 * {@link #calibrate}; to restore a checkpoint, calibrate on any data (which creates quantizers of
 * the right shapes) and then {@code loadStateDict}.
 *
 * <p>The model's Conv1D layers (and, with the lm head, the model's head) get input and weight
 * transforms installed; {@link #detach()} removes them again.
 */
public final class QuantizedGpt2 extends Module {
    /** The four quantized layers of each block, relative to the block. */
    public static final List<String> LAYERS_IN_BLOCK = List.of("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj");
    /** The name (and {@link Site#layerPath()}) of the lm head's site, present only with {@link QuantSpec#quantizeLmHead()}. */
    public static final String LM_HEAD = "lm_head";

    private final Gpt2Model model;
    private final QuantSpec spec;
    private final Map<String, Site> sites = new LinkedHashMap<>();
    private boolean quantizationEnabled = true;
    private boolean calibrated;

    /**
     * Wraps {@code model} (shared, not copied) and installs a site on every block linear layer, and
     * on the lm head when {@code spec.quantizeLmHead()}.
     */
    public QuantizedGpt2(Gpt2Model model, QuantSpec spec) {
        this.model = registerModule("model", model);
        this.spec = spec;
        Container root = registerModule("sites", new Container());
        for (int i = 0; i < model.blocks().size(); i++) {
            Module block = model.blocks().get(i);
            for (String layerPath : LAYERS_IN_BLOCK) {
                String[] parts = layerPath.split("\\.");
                Module layer = block.children().get(parts[0]).children().get(parts[1]);
                if (!(layer instanceof Conv1D conv)) {
                    throw new IllegalStateException("h." + i + "." + layerPath + " is not a Conv1D");
                }
                String name = "h." + i + "." + layerPath;
                Site site = root.path("h", Integer.toString(i), parts[0]).add(parts[1],
                        new Site(this, name, i, layerPath, new ConvTarget(conv)));
                sites.put(name, site);
                site.install();
            }
        }
        if (spec.quantizeLmHead()) {
            Site site = root.add(LM_HEAD, new Site(this, LM_HEAD, -1, LM_HEAD, new HeadTarget(model)));
            sites.put(LM_HEAD, site);
            site.install();
        }
    }

    public Gpt2Model model() {
        return model;
    }

    public QuantSpec spec() {
        return spec;
    }

    /** Every site by name ("h.0.attn.c_attn"), in block order, then "lm_head" if the head is quantized. */
    public Map<String, Site> sites() {
        return Collections.unmodifiableMap(sites);
    }

    public Site site(String name) {
        Site s = sites.get(name);
        if (s == null) throw new IllegalArgumentException("no quantization site '" + name + "'; sites: " + sites.keySet());
        return s;
    }

    /** Logits [B, T, vocab], quantized when quantization is enabled. */
    public Tensor logits(Tensor ids) {
        return model.logits(ids);
    }

    /** Mean next-token cross-entropy (see {@link #lmLoss}). */
    public Tensor loss(Tensor ids, Tensor targets) {
        return lmLoss(model, ids, targets);
    }

    /** Mean next-token cross-entropy of {@code model}: {@link Gpt2Model#loss}, kept as a function for evaluation callbacks. */
    public static Tensor lmLoss(Gpt2Model model, Tensor ids, Tensor targets) {
        return model.loss(ids, targets);
    }

    /** Turns every quantizer on or off (off: the full-precision model, adapters included). */
    public void setQuantizationEnabled(boolean enabled) {
        this.quantizationEnabled = enabled;
    }

    public boolean isQuantizationEnabled() {
        return quantizationEnabled;
    }

    public boolean isCalibrated() {
        return calibrated;
    }

    /** Removes the transforms from the wrapped model's layers (and head): it computes in full precision again. */
    public void detach() {
        for (Site s : sites.values()) s.target.setTransforms(null, null);
    }

    // ---------------------------------------------------------------- calibration

    /**
     * Creates every quantizer with ranges from data: the inputs each site sees on {@code batches}
     * (token ids, INT32 [B, T]) with quantization off, per tensor; the (adapter-scaled) weights per
     * output channel (a Conv1D weight's columns, the lm head's vocabulary rows). Can be called once.
     */
    public void calibrate(List<Tensor> batches) {
        if (calibrated) throw new IllegalStateException("QuantizedGpt2: already calibrated");
        if (batches.isEmpty()) throw new IllegalArgumentException("QuantizedGpt2.calibrate: no calibration batches");
        Map<String, Tensor> inputs = captureInputs(batches);
        Parameterization p = spec.parameterization();
        for (Site s : sites.values()) {
            Tensor x = inputs.get(s.name).reshape(-1, 1);
            QuantConfig aConfig = new QuantConfig(spec.bits().activationBits(), 1, p.defaultZeroPointRounding(),
                    spec.lsqGradScale());
            Quantizer input = make(p, aConfig, spec.calibration().range(x, 1, aConfig.bits()), RangeInit.dataExtremes(x, 1));
            Tensor w;
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                w = s.scaledWeight().detach();
            }
            int axis = s.target.outputAxis();
            QuantConfig wConfig = new QuantConfig(spec.bits().weightBits(), axis, p.defaultZeroPointRounding(), spec.lsqGradScale());
            s.setQuantizers(input, make(p, wConfig, spec.calibration().range(w, axis, wConfig.bits()),
                    RangeInit.dataExtremes(w, axis)));
        }
        calibrated = true;
    }

    /**
     * Per input channel, the minimum and maximum of what each site's input quantizer sees (the
     * adapter-scaled input) on {@code batches}, with quantization off: [2][channels] per site.
     */
    public Map<String, double[][]> inputChannelRanges(List<Tensor> batches) {
        Map<String, double[][]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : captureInputs(batches).entrySet()) {
            Range r = RangeInit.dataExtremes(e.getValue(), 1);
            out.put(e.getKey(), new double[][]{r.minValues(), r.maxValues()});
        }
        return out;
    }

    /** Each site's quantizer input over all batches, as [rows, in], with quantization off. */
    private Map<String, Tensor> captureInputs(List<Tensor> batches) {
        boolean wasEnabled = quantizationEnabled;
        quantizationEnabled = false;
        for (Site s : sites.values()) s.captured = new ArrayList<>();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor ids : batches) model.logits(ids);
        } finally {
            quantizationEnabled = wasEnabled;
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Site s : sites.values()) {
            List<Tensor> parts = s.captured;
            s.captured = null;
            int width = s.target.inFeatures(), rows = 0;
            for (Tensor t : parts) rows += t.numel() / width;
            double[] all = new double[rows * width];
            int at = 0;
            for (Tensor t : parts) {
                double[] v = t.toDoubleArray();
                System.arraycopy(v, 0, all, at, v.length);
                at += v.length;
            }
            out.put(s.name, Tensor.of(all, model.dtype(), rows, width));
        }
        return out;
    }

    /**
     * A quantizer of parameterization {@code p} whose effective range starts at {@code range};
     * {@code extremes} are the data's min/max, which beta/gamma expresses the range relative to.
     * The sigmoid form cannot reach a ratio of 1 (or more), so its ratios are capped at
     * sigmoid(4) = 0.982, OmniQuant's initial value.
     */
    static Quantizer make(Parameterization p, QuantConfig config, Range range, Range extremes) {
        return switch (p) {
            case SCALE_OFFSET -> ScaleOffsetQuantizer.fromRange(config, range);
            case MIN_MAX -> new MinMaxQuantizer(config, range);
            case BETA_GAMMA, BETA_GAMMA_SIGMOID -> {
                boolean sigmoid = p == Parameterization.BETA_GAMMA_SIGMOID;
                double[] lo = range.minValues(), hi = range.maxValues(), dlo = extremes.minValues(), dhi = extremes.maxValues();
                double[] beta = new double[lo.length], gamma = new double[lo.length];
                for (int c = 0; c < lo.length; c++) {
                    beta[c] = relative(lo[c], dlo[c], sigmoid);
                    gamma[c] = relative(hi[c], dhi[c], sigmoid);
                }
                Tensor like = range.min();
                yield new BetaGammaQuantizer(config, Tensor.of(beta, like.dtype(), like.shape()),
                        Tensor.of(gamma, like.dtype(), like.shape()), sigmoid);
            }
        };
    }

    private static double relative(double bound, double extreme, boolean sigmoid) {
        // a zero extreme (e.g. a channel that is never negative) multiplies to zero whatever the ratio
        double r = extreme == 0 ? 1 : bound / extreme;
        if (!sigmoid) return r;
        double capped = Math.min(Math.max(r, 1e-3), 1 / (1 + Math.exp(-BetaGammaQuantizer.OMNIQUANT_INITIAL_LOGIT)));
        return Math.log(capped / (1 - capped));
    }

    /** A copy of a quantizer: same class, config and parameter values. */
    static Quantizer duplicate(Quantizer q) {
        Map<String, Tensor> p = q.namedParameters();
        return switch (q.parameterization()) {
            case SCALE_OFFSET -> new ScaleOffsetQuantizer(q.config(), p.get("scale").detach(), p.get("offset").detach());
            case MIN_MAX -> new MinMaxQuantizer(q.config(), new Range(p.get("thetaMin").detach(), p.get("thetaMax").detach()));
            case BETA_GAMMA, BETA_GAMMA_SIGMOID -> new BetaGammaQuantizer(q.config(), p.get("beta").detach(),
                    p.get("gamma").detach(), q.parameterization() == Parameterization.BETA_GAMMA_SIGMOID);
        };
    }

    /** Gives this (uncalibrated) model copies of {@code other}'s quantizers, site by site. */
    void copyQuantizersFrom(QuantizedGpt2 other) {
        if (calibrated) throw new IllegalStateException("QuantizedGpt2: already calibrated");
        for (Site s : sites.values()) {
            Site o = other.site(s.name);
            if (o.inputQuantizer == null) throw new IllegalStateException("the source model is not calibrated");
            s.setQuantizers(duplicate(o.inputQuantizer), duplicate(o.weightQuantizer));
        }
        calibrated = true;
    }

    // ---------------------------------------------------------------- parameter groups

    /** The GPT-2 weights, by their names in this module ("model.h.0.attn.c_attn.weight"). */
    public Map<String, Tensor> modelParameters() {
        return select("model.", false);
    }

    /** Every quantizer's range parameters. */
    public Map<String, Tensor> rangeParameters() {
        return select("sites.", false);
    }

    /** Every adapter scale ("sites.h.0.attn.c_attn.alpha"). */
    public Map<String, Tensor> adapterParameters() {
        return select("sites.", true);
    }

    private Map<String, Tensor> select(String prefix, boolean alphas) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : namedParameters().entrySet()) {
            String n = e.getKey();
            if (n.startsWith(prefix) && (prefix.equals("model.") || n.endsWith(".alpha") == alphas)) out.put(n, e.getValue());
        }
        return out;
    }

    /**
     * Freezes (false) or unfreezes the GPT-2 weights: frozen weights get no gradient at all, so
     * nothing can change them and backward skips their work.
     */
    public void setModelTrainable(boolean trainable) {
        for (Tensor p : model.parameters()) p.requiresGrad(trainable);
    }

    // ---------------------------------------------------------------- sites

    /** Nested containers that give the sites dotted names. */
    private static final class Container extends Module {
        Container path(String... names) {
            Container c = this;
            for (String n : names) {
                Module m = c.children().get(n);
                c = m != null ? (Container) m : c.registerModule(n, new Container());
            }
            return c;
        }

        <M extends Module> M add(String name, M module) {
            return registerModule(name, module);
        }
    }

    /**
     * What a site quantizes: a product f(x) g(W) whose input and weight can be transformed, with the
     * input's channels along one axis of W and the outputs along the other.
     */
    private interface Target {
        /** Width of the input: the summed axis of the product. */
        int inFeatures();

        /** The weight as stored. */
        Tensor weight();

        /** The weight's output-channel axis (the other axis holds the input channels). */
        int outputAxis();

        void setTransforms(UnaryOperator<Tensor> input, UnaryOperator<Tensor> weight);
    }

    /** A block's Conv1D: W [in, out], outputs along axis 1. */
    private record ConvTarget(Conv1D layer) implements Target {
        public int inFeatures() {
            return layer.inFeatures();
        }

        public Tensor weight() {
            return layer.namedParameters().get("weight");
        }

        public int outputAxis() {
            return 1;
        }

        public void setTransforms(UnaryOperator<Tensor> input, UnaryOperator<Tensor> weight) {
            layer.setTransforms(input, weight);
        }
    }

    /** The lm head: logits = x wte^T with wte [vocab, C], outputs (vocabulary rows) along axis 0. */
    private record HeadTarget(Gpt2Model model) implements Target {
        public int inFeatures() {
            return model.config().nEmbd();
        }

        public Tensor weight() {
            return model.headWeight();
        }

        public int outputAxis() {
            return 0;
        }

        public void setTransforms(UnaryOperator<Tensor> input, UnaryOperator<Tensor> weight) {
            model.setHeadTransforms(input, weight);
        }
    }

    /**
     * One quantized linear layer: y = Q_a(alpha x) Q_w(W / alpha) + b, where alpha (a per-input-
     * channel scale, only with a Quadapter) divides the input-channel slices of W (the rows of a
     * Conv1D weight). Without quantization the alphas cancel exactly in real arithmetic. The lm
     * head's site computes Q_a(x) Q_w(wte)^T the same way, with wte's rows as output channels.
     */
    public static final class Site extends Module {
        private final QuantizedGpt2 owner;
        private final String name;
        private final int block;
        private final String layerPath;
        private final Target target;
        private Quantizer inputQuantizer;
        private Quantizer weightQuantizer;
        private boolean hasAlpha;
        private List<Tensor> captured;

        private Site(QuantizedGpt2 owner, String name, int block, String layerPath, Target target) {
            this.owner = owner;
            this.name = name;
            this.block = block;
            this.layerPath = layerPath;
            this.target = target;
        }

        /** "h.0.attn.c_attn", or "lm_head". */
        public String name() {
            return name;
        }

        /** The block index, or -1 for the lm head. */
        public int block() {
            return block;
        }

        /** "attn.c_attn", "attn.c_proj", "mlp.c_fc" or "mlp.c_proj"; "lm_head" for the lm head. */
        public String layerPath() {
            return layerPath;
        }

        /** Whether this is the lm head's site rather than a block layer's. */
        public boolean isLmHead() {
            return target instanceof HeadTarget;
        }

        /** The quantized Conv1D, or null for the lm head. */
        public Conv1D layer() {
            return target instanceof ConvTarget c ? c.layer() : null;
        }

        private void install() {
            target.setTransforms(this::transformInput, this::transformWeight);
        }

        /**
         * The per-tensor quantizer of the layer's input (null before calibration). It sees the input as
         * [elements, 1] with one "channel", so its parameters have shape [1, 1] rather than []: the
         * fast CPU backend fails on elementwise ops between rank-0 tensors, and a single channel is
         * per tensor in every respect (range, data extremes, LSQ element count).
         */
        public Quantizer inputQuantizer() {
            return inputQuantizer;
        }

        /**
         * The per-output-channel quantizer of the weight (null before calibration): channel axis 1 of
         * a Conv1D weight [in, out], axis 0 (one range per vocabulary row) of the lm head's wte [vocab, C].
         */
        public Quantizer weightQuantizer() {
            return weightQuantizer;
        }

        public boolean hasAdapter() {
            return hasAlpha;
        }

        /** The adapter scale [in] (null without an adapter). */
        public Tensor alpha() {
            return hasAlpha ? param("alpha") : null;
        }

        /** Adds a per-input-channel scale alpha, initialised to 1. */
        void addAdapter() {
            if (hasAlpha) throw new IllegalStateException(name + " already has an adapter");
            registerParameter("alpha", Tensor.ones(owner.model.dtype(), target.inFeatures()));
            hasAlpha = true;
        }

        /** alpha shaped to divide the weight's input-channel slices: [in, 1] for Conv1D, [1, in] for the head. */
        private Tensor alphaForWeight() {
            int in = target.inFeatures();
            return target.outputAxis() == 1 ? param("alpha").reshape(in, 1) : param("alpha").reshape(1, in);
        }

        private void setQuantizers(Quantizer input, Quantizer weight) {
            inputQuantizer = registerModule("input", input);
            weightQuantizer = registerModule("weight", weight);
        }

        Tensor transformInput(Tensor x) {
            if (hasAlpha) x = x.mul(param("alpha"));
            if (captured != null) captured.add(x.detach().reshape(-1, target.inFeatures()));
            if (!owner.quantizationEnabled || inputQuantizer == null) return x;
            return inputQuantizer.forward(x.reshape(-1, 1)).reshape(x.shape());
        }

        Tensor transformWeight(Tensor w) {
            if (hasAlpha) w = w.div(alphaForWeight());
            return owner.quantizationEnabled && weightQuantizer != null ? weightQuantizer.forward(w) : w;
        }

        /** W / alpha (input-channel slices), the weight the quantizer sees. */
        Tensor scaledWeight() {
            Tensor w = target.weight();
            return hasAlpha ? w.div(alphaForWeight()) : w;
        }
    }
}
