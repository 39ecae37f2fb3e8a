package io.github.grad4j.experiments.gpt2;

import io.github.grad4j.backend.DType;
import io.github.grad4j.nn.Layer;
import io.github.grad4j.tensor.Rng;
import io.github.grad4j.tensor.Tensor;

/** GPT-2's feed-forward branch: c_fc (C to 4C), tanh-GELU, c_proj (4C to C), then residual dropout. */
public final class Mlp extends Layer {
    private final Conv1D cFc;
    private final Conv1D cProj;
    private final Dropout dropout;

    Mlp(Gpt2Config config, Rng rng, DType dtype, Dropout dropout) {
        int c = config.nEmbd();
        this.cFc = registerModule("c_fc", new Conv1D(c, 4 * c, Init.STD, rng, dtype));
        this.cProj = registerModule("c_proj", new Conv1D(4 * c, c, Gpt2Model.residualStd(config), rng, dtype));
        this.dropout = dropout;
    }

    @Override
    public Tensor forward(Tensor x) {
        return dropout.apply(cProj.forward(cFc.forward(x).gelu()), isTraining());
    }
}
