"""Golden vectors for single ops, computed by PyTorch in float64.

For each op this writes src/test/resources/golden/ops/<name>.safetensors holding
  - the inputs under their own names (float64; integer indices as int64),
  - the outputs: "out" (and, for batch_norm, the updated running statistics),
  - "w_<output>": a fixed random weighting of each differentiable output,
  - "grad_<input>": the gradient of sum(output * w_output) w.r.t. every float input,
and the op's settings (dim, stride, ...) as string metadata.

Run with Debian's python3-torch: /usr/bin/python3 test-vectors/ops_golden.py
"""
import os

import torch
import torch.nn.functional as F

import golden_io

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden", "ops")
torch.set_default_dtype(torch.float64)


def case(name, fn, inputs, meta=None, no_grad=()):
    """Runs fn(**inputs) -> {output name: tensor}, weights the differentiable outputs and saves everything.

    Float inputs not listed in no_grad get gradients; no_grad inputs are passed as clones (they may be
    changed in place, as batch_norm's running statistics are).
    """
    leaves = {}
    for k, v in inputs.items():
        if v.is_floating_point() and k not in no_grad:
            leaves[k] = v.clone().requires_grad_(True)
        else:
            leaves[k] = v.clone()
    outs = fn(**leaves)
    weights = {k: torch.randn(o.shape) for k, o in outs.items() if o.requires_grad}
    loss = sum((outs[k] * w).sum() for k, w in weights.items())
    wrt = [k for k, v in leaves.items() if v.requires_grad]
    grads = torch.autograd.grad(loss, [leaves[k] for k in wrt])
    tensors = dict(inputs)
    tensors.update({k: o.detach() for k, o in outs.items()})
    tensors.update({"w_" + k: w for k, w in weights.items()})
    tensors.update({"grad_" + k: g for k, g in zip(wrt, grads)})
    golden_io.save(os.path.join(OUT_DIR, name + ".safetensors"), tensors, dict(meta or {}, op=name))
    print(f"{name}: " + ", ".join(f"{k}{list(t.shape)}" for k, t in tensors.items()))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(20240601)
    randn = torch.randn

    # [2,1,3,4] @ [5,4,2] -> [2,5,3,2]: both operands broadcast over the batch axes
    case("matmul", lambda a, b: {"out": a @ b}, {"a": randn(2, 1, 3, 4), "b": randn(5, 4, 2)})

    # softmax over a middle axis (the harder, strided case)
    case("softmax", lambda x: {"out": torch.softmax(x, dim=1)}, {"x": randn(2, 4, 3) * 3}, {"dim": 1})

    # large shifted logits check the max-subtraction
    case("log_softmax", lambda x: {"out": torch.log_softmax(x, dim=-1)}, {"x": randn(4, 6) * 5 + 40}, {"dim": 1})

    # mean over the 4 targets that are not ignored
    targets = torch.tensor([2, -100, 0, 4, -100, 1])
    case("cross_entropy",
         lambda logits, targets: {"out": F.cross_entropy(logits, targets, ignore_index=-100)},
         {"logits": randn(6, 5) * 2, "targets": targets}, {"ignore_index": -100})

    # normalized over the last two axes, with elementwise affine
    case("layer_norm",
         lambda x, weight, bias: {"out": F.layer_norm(x, (4, 6), weight, bias, eps=1e-5)},
         {"x": randn(3, 4, 6) * 2 + 1, "weight": 1 + 0.5 * randn(4, 6), "bias": 0.5 * randn(4, 6)}, {"eps": 1e-5})

    def batch_norm(x, weight, bias, running_mean, running_var):
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=True, momentum=0.1, eps=1e-5)
        return {"out": y, "running_mean_out": running_mean, "running_var_out": running_var}

    case("batch_norm", batch_norm,
         {"x": randn(4, 3, 2, 3) * 2 + 0.5, "weight": 1 + 0.5 * randn(3), "bias": 0.5 * randn(3),
          "running_mean": 0.1 * randn(3), "running_var": 1 + 0.1 * torch.rand(3)},
         {"momentum": 0.1, "eps": 1e-5}, no_grad=("running_mean", "running_var"))

    # odd spatial sizes: stride 2 with padding 1 drops part of the last row
    case("conv2d",
         lambda x, weight, bias: {"out": F.conv2d(x, weight, bias, stride=2, padding=1)},
         {"x": randn(2, 3, 7, 6), "weight": randn(4, 3, 3, 3) * 0.3, "bias": randn(4)}, {"stride": 2, "padding": 1})

    # overlapping windows (3 wide, stride 2), so one input can receive gradient from several windows
    case("max_pool2d",
         lambda x: {"out": F.max_pool2d(x, kernel_size=3, stride=2, padding=1)},
         {"x": randn(2, 2, 7, 7)}, {"kernel": 3, "stride": 2, "padding": 1})

    case("gelu_tanh", lambda x: {"out": F.gelu(x, approximate="tanh")},
         {"x": torch.cat([torch.linspace(-6, 6, 25), randn(15) * 2])})

    case("logsumexp", lambda x: {"out": torch.logsumexp(x, dim=1)}, {"x": randn(3, 5, 4) * 4}, {"dim": 1})

    # unbiased variance over two non-adjacent axes
    case("var", lambda x: {"out": torch.var(x, dim=(0, 2), unbiased=True)}, {"x": randn(3, 4, 5) * 2 + 3},
         {"dims": "0,2", "unbiased": True})

    # well-conditioned batched systems with several right-hand sides
    case("solve", lambda a, b: {"out": torch.linalg.solve(a, b)},
         {"a": randn(3, 4, 4) + 4 * torch.eye(4), "b": randn(3, 4, 2)})

    # repeated indices, so the backward must accumulate
    case("gather", lambda x, index: {"out": torch.gather(x, 1, index)},
         {"x": randn(3, 5), "index": torch.tensor([[0, 4, 4, 1], [2, 2, 2, 3], [1, 0, 3, 0]])}, {"dim": 1})

    case("index_select", lambda x, index: {"out": torch.index_select(x, 1, index)},
         {"x": randn(3, 6), "index": torch.tensor([5, 0, 2, 5])}, {"dim": 1})

    case("embedding", lambda weight, ids: {"out": F.embedding(ids, weight)},
         {"weight": randn(7, 4), "ids": torch.tensor([[1, 6, 1, 0, 3], [3, 3, 2, 6, 5]])})

    case("scatter_add", lambda base, index, src: {"out": torch.scatter_add(base, 1, index, src)},
         {"base": randn(3, 5), "index": torch.tensor([[0, 4, 4, 1], [2, 2, 2, 3], [1, 0, 3, 0]]),
          "src": randn(3, 4)}, {"dim": 1})


if __name__ == "__main__":
    main()
