package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.LayerNorm;
import io.github.grad4j.nn.Module;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Shape;
import io.github.grad4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * GPT-2 (Radford et al. 2019) exactly as Hugging Face's GPT2LMHeadModel computes it: token plus
 * position embeddings, {@code nLayer} pre-LayerNorm blocks, a final LayerNorm, and logits from the
 * tied token embedding (x wte^T).
 *
 * <p>Parameter names are HF's without a prefix ({@code wte.weight}, {@code h.0.attn.c_attn.weight},
 * ...), so {@link #stateDict()} lines up with a checkpoint. Initialization follows GPT-2: weights and
 * embeddings N(0, 0.02), the two residual projections per block N(0, 0.02 / sqrt(2 nLayer)), biases
 * 0, LayerNorm weight 1 and bias 0.
 */
public final class Gpt2Model extends Module {
    /** Target value that {@link #loss} leaves out (padding, prompt positions). */
    public static final int IGNORE_INDEX = -1;

    private final Gpt2Config config;
    private final DType dtype;
    private final Gpt2Embedding wte;
    private final Gpt2Embedding wpe;
    private final List<Gpt2Block> blocks;
    private final LayerNorm lnF;
    private final Dropout dropout;
    private UnaryOperator<Tensor> headInputTransform;
    private UnaryOperator<Tensor> headWeightTransform;

    /** A FLOAT32 model with GPT-2's initialization drawn from {@code rng}. */
    public Gpt2Model(Gpt2Config config, Rng rng) {
        this(config, rng, DType.FLOAT32);
    }

    /**
     * A model of the given floating dtype (FLOAT64 for gradient checks) initialized from
     * {@code rng}; the dropout masks come from a generator forked from it.
     */
    public Gpt2Model(Gpt2Config config, Rng rng, DType dtype) {
        this(config, java.util.Objects.requireNonNull(rng, "rng"), dtype, true);
    }

    /** A model whose weights are zeros, about to be filled from a checkpoint (skips drawing millions of normals). */
    static Gpt2Model forLoading(Gpt2Config config, DType dtype) {
        return new Gpt2Model(config, null, dtype, false);
    }

    private Gpt2Model(Gpt2Config config, Rng rng, DType dtype, boolean unused) {
        if (!dtype.isFloatingPoint()) throw new IllegalArgumentException("Gpt2Model: dtype must be floating point, got " + dtype);
        this.config = config;
        this.dtype = dtype;
        this.dropout = new Dropout(config.dropout(), rng == null ? new Rng(0) : rng.fork());
        this.wte = registerModule("wte", new Gpt2Embedding(config.vocabSize(), config.nEmbd(), rng, dtype));
        this.wpe = registerModule("wpe", new Gpt2Embedding(config.nPositions(), config.nEmbd(), rng, dtype));
        BlockList h = registerModule("h", new BlockList());
        List<Gpt2Block> list = new ArrayList<>();
        for (int i = 0; i < config.nLayer(); i++) list.add(h.add(i, new Gpt2Block(config, rng, dtype, dropout)));
        this.blocks = Collections.unmodifiableList(list);
        this.lnF = registerModule("ln_f", new LayerNorm(new int[]{config.nEmbd()}, config.layerNormEpsilon(), true, dtype));
    }

    /** The numbered container "h" whose children are the blocks "0", "1", ... */
    private static final class BlockList extends Module {
        Gpt2Block add(int index, Gpt2Block block) {
            return registerModule(Integer.toString(index), block);
        }
    }

    /** Standard deviation of the residual projections (attn.c_proj, mlp.c_proj): 0.02 / sqrt(2 nLayer). */
    static double residualStd(Gpt2Config config) {
        return Init.STD / Math.sqrt(2.0 * config.nLayer());
    }

    public Gpt2Config config() {
        return config;
    }

    public DType dtype() {
        return dtype;
    }

    /** Reseeds the generator the dropout masks are drawn from (only matters when dropout &gt; 0 in training mode). */
    public void setDropoutRng(Rng rng) {
        dropout.setRng(java.util.Objects.requireNonNull(rng, "rng"));
    }

    /** An empty key/value cache for incremental decoding of {@code batchSize} sequences. */
    public KvCache newCache(int batchSize) {
        return new KvCache(config.nLayer(), batchSize, config.nPositions());
    }

    /** The transformer blocks h.0, h.1, ... in order. */
    public List<Gpt2Block> blocks() {
        return blocks;
    }

    /**
     * The residual stream entering block 0 for token ids (INT32 [B, T]): token plus position
     * embeddings, with dropout in training mode. {@code logits(ids)} equals {@link #head} of the
     * blocks applied in order to this.
     */
    public Tensor embed(Tensor ids) {
        checkIds(ids, 0, null);
        int t = ids.size(1);
        int[] positionIds = new int[t];
        for (int i = 0; i < t; i++) positionIds[i] = i;
        Tensor positions = Tensor.ofInts(positionIds, t).to(ids.backend());
        return dropout.apply(wte.lookup(ids).add(wpe.lookup(positions)), isTraining());
    }

    /**
     * Logits [B, T, vocab] from the residual stream leaving the last block: ln_f, then x wte^T (with
     * the transforms of {@link #setHeadTransforms}, if any: f(x) g(wte)^T). Every logit this model
     * computes, with or without a KV cache, goes through here.
     */
    public Tensor head(Tensor hidden) {
        int b = hidden.size(0), t = hidden.size(1);
        Tensor x = lnF.forward(hidden).reshape(b * t, config.nEmbd());
        if (headInputTransform != null) x = headInputTransform.apply(x);
        Tensor w = headWeightTransform == null ? wte.weight() : headWeightTransform.apply(wte.weight());
        return x.matmul(w.mT()).reshape(b, t, config.vocabSize());
    }

    /**
     * The lm head's weight as stored: the token embedding wte.weight [vocab, C] (tied), without any
     * head transform.
     */
    public Tensor headWeight() {
        return wte.weight();
    }

    /**
     * Hooks for experiments that change how the lm head computes without changing the parameters
     * (fake quantization), like {@link Conv1D#setTransforms}: logits = f(x) g(wte)^T. {@code input}
     * maps the ln_f output, flattened to [B*T, C], to the same shape; {@code weight} maps wte.weight
     * [vocab, C] to the same shape, for the head only: the embedding lookup keeps reading the
     * untransformed wte. Null removes a hook.
     */
    public void setHeadTransforms(UnaryOperator<Tensor> input, UnaryOperator<Tensor> weight) {
        this.headInputTransform = input;
        this.headWeightTransform = weight;
    }

    /** Whether a head input or weight transform is installed. */
    public boolean hasHeadTransforms() {
        return headInputTransform != null || headWeightTransform != null;
    }

    /** Logits [B, T, vocab] for token ids (INT32 [B, T], 1 &lt;= T &lt;= context length). */
    public Tensor logits(Tensor ids) {
        return logits(ids, null);
    }

    /**
     * Logits [B, T, vocab] for the next T tokens of sequences whose earlier tokens are in
     * {@code cache} (which this call extends); equal to the last T positions of a full forward pass
     * over the whole sequence. A null cache is the plain forward pass.
     */
    public Tensor logits(Tensor ids, KvCache cache) {
        int past = cache == null ? 0 : cache.length();
        checkIds(ids, past, cache);
        int b = ids.size(0), t = ids.size(1);
        int[] positionIds = new int[t];
        for (int i = 0; i < t; i++) positionIds[i] = past + i;
        Tensor positions = Tensor.ofInts(positionIds, t).to(ids.backend());
        Tensor x = wte.lookup(ids).add(wpe.lookup(positions)); // [B, T, C] + [T, C]
        x = dropout.apply(x, isTraining());
        for (int i = 0; i < blocks.size(); i++) x = blocks.get(i).forward(x, cache, i);
        if (cache != null) cache.advance(t);
        return head(x);
    }

    /**
     * Mean cross-entropy of next-token prediction: targets (INT32 [B, T]) hold the token that should
     * follow each input position, or {@link #IGNORE_INDEX} for positions left out of the mean.
     */
    public Tensor loss(Tensor ids, Tensor targets) {
        if (!java.util.Arrays.equals(ids.shape(), targets.shape())) {
            throw new IllegalArgumentException("Gpt2Model.loss: targets " + Shape.str(targets.shape())
                    + " must have the shape of ids " + Shape.str(ids.shape()));
        }
        if (targets.dtype() != DType.INT32) {
            throw new IllegalArgumentException("Gpt2Model.loss: targets must be INT32, got " + targets.dtype());
        }
        Tensor logits = logits(ids);
        int n = ids.numel();
        return Functional.crossEntropy(logits.reshape(n, config.vocabSize()), targets.reshape(n), IGNORE_INDEX,
                Functional.Reduction.MEAN);
    }

    private void checkIds(Tensor ids, int past, KvCache cache) {
        if (ids.dtype() != DType.INT32 || ids.dim() != 2 || ids.size(1) == 0) {
            throw new IllegalArgumentException("Gpt2Model: token ids must be INT32 [batch, time] with time >= 1, got "
                    + ids.dtype() + " " + Shape.str(ids.shape()));
        }
        int t = ids.size(1);
        if (past + t > config.nPositions()) {
            throw new IllegalArgumentException("Gpt2Model: " + (past > 0 ? past + " cached + " : "") + t
                    + " tokens exceed the context length n_positions = " + config.nPositions());
        }
        if (cache != null && cache.batchSize() != ids.size(0)) {
            throw new IllegalArgumentException("Gpt2Model: ids " + Shape.str(ids.shape()) + " have batch " + ids.size(0)
                    + " but the cache was made for batch " + cache.batchSize());
        }
        int[] v = ids.toIntArray();
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("Gpt2Model: token id " + v[i] + " at [" + i / t + ", " + i % t
                        + "] is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }
}
