package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Module;
import io.github.grad4j.ops.Functional;
import io.github.grad4j.ops.Views;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/**
 * Multi-head causal self-attention: c_attn makes q, k, v (C to 3C), each viewed as [B, heads, T, d];
 * softmax(q k^T / sqrt(d)) with future positions masked, times v; heads merged; c_proj (C to C).
 * All heads go through one batched matmul.
 */
public final class CausalSelfAttention extends Module {
    private final int nHead;
    private final int nEmbd;
    private final int headSize;
    private final Conv1D cAttn;
    private final Conv1D cProj;
    private final Dropout dropout;

    CausalSelfAttention(Gpt2Config config, Rng rng, DType dtype, Dropout dropout) {
        this.nHead = config.nHead();
        this.nEmbd = config.nEmbd();
        this.headSize = config.headSize();
        this.cAttn = registerModule("c_attn", new Conv1D(nEmbd, 3 * nEmbd, Init.STD, rng, dtype));
        this.cProj = registerModule("c_proj", new Conv1D(nEmbd, nEmbd, Gpt2Model.residualStd(config), rng, dtype));
        this.dropout = dropout;
    }

    /**
     * x [B, T, C] to [B, T, C]. With a cache, the new keys and values are appended to the cached
     * ones for {@code layer} and the T queries attend to all of them (the queries sit at the last T
     * positions).
     */
    Tensor forward(Tensor x, KvCache cache, int layer) {
        int b = x.size(0), t = x.size(1);
        Tensor qkv = cAttn.forward(x);
        Tensor q = splitHeads(qkv.narrow(2, 0, nEmbd), b, t);
        Tensor k = splitHeads(qkv.narrow(2, nEmbd, nEmbd), b, t);
        Tensor v = splitHeads(qkv.narrow(2, 2 * nEmbd, nEmbd), b, t);
        if (cache != null) {
            Tensor pastK = cache.keys(layer);
            if (pastK != null) {
                k = Views.concat(2, pastK, k);
                v = Views.concat(2, cache.values(layer), v);
            }
            cache.store(layer, k, v);
        }
        if (!isTraining() || dropout.rate() == 0) {
            // one fused node (no T x T graph); its output is laid out [B, T, H, d], so merging heads is a view
            Tensor y = Functional.scaledDotProductAttention(q, k, v, true).permute(0, 2, 1, 3).reshape(b, t, nEmbd);
            return dropout.apply(cProj.forward(y), isTraining());
        }
        int keysLength = k.size(2);
        Tensor scores = q.matmul(k.mT()).mul(1.0 / Math.sqrt(headSize)); // [B, H, T, keys]
        if (t > 1) {
            // -inf before softmax gives exactly zero probability, and where() routes no gradient into the
            // masked scores, so the gradient equals that of softmax over the allowed positions only
            scores = scores.maskedFill(futureMask(t, keysLength, scores.dtype()), Double.NEGATIVE_INFINITY);
        }
        Tensor probs = dropout.apply(scores.softmax(-1), isTraining());
        Tensor y = probs.matmul(v).permute(0, 2, 1, 3).reshape(b, t, nEmbd); // merge heads
        return dropout.apply(cProj.forward(y), isTraining());
    }

    /** [B, T, C] to [B, heads, T, d] (a view where possible). */
    private Tensor splitHeads(Tensor x, int b, int t) {
        return x.reshape(b, t, nHead, headSize).permute(0, 2, 1, 3);
    }

    /**
     * 1 where query i (at absolute position past + i) would see key j from its future, j &gt; past + i,
     * with past = keys - queries; shape [queries, keys], broadcast over batch and heads.
     */
    private static Tensor futureMask(int queries, int keys, DType dtype) {
        int past = keys - queries;
        double[] m = new double[queries * keys];
        for (int i = 0; i < queries; i++) {
            for (int j = past + i + 1; j < keys; j++) m[i * keys + j] = 1;
        }
        return Tensor.of(m, dtype, queries, keys);
    }
}
