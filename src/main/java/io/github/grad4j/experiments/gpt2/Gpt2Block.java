package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.LayerNorm;
import io.github.grad4j.nn.Module;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** A pre-LayerNorm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). */
public final class Gpt2Block extends Module {
    private final LayerNorm ln1;
    private final CausalSelfAttention attn;
    private final LayerNorm ln2;
    private final Mlp mlp;

    Gpt2Block(Gpt2Config config, Rng rng, DType dtype, Dropout dropout) {
        this.ln1 = registerModule("ln_1", new LayerNorm(new int[]{config.nEmbd()}, config.layerNormEpsilon(), true, dtype));
        this.attn = registerModule("attn", new CausalSelfAttention(config, rng, dtype, dropout));
        this.ln2 = registerModule("ln_2", new LayerNorm(new int[]{config.nEmbd()}, config.layerNormEpsilon(), true, dtype));
        this.mlp = registerModule("mlp", new Mlp(config, rng, dtype, dropout));
    }

    /**
     * The block applied to a residual stream x [B, T, C] without a cache: what block-wise
     * calibration and analysis need to run one block on its own inputs.
     */
    public Tensor forward(Tensor x) {
        return forward(x, null, 0);
    }

    Tensor forward(Tensor x, KvCache cache, int layer) {
        x = x.add(attn.forward(ln1.forward(x), cache, layer));
        return x.add(mlp.forward(ln2.forward(x)));
    }
}
