"""Golden vectors for one small network and five SGD-momentum steps, in float32 and float64.

Network: conv2d(1->4, 3x3, padding 1, no bias) -> batch_norm (training) -> relu -> max_pool2d(2)
         -> flatten -> linear(64->16) -> gelu (tanh) -> linear(16->3) -> cross_entropy (mean)
on a fixed batch of 6 images 1x8x8 with 3 classes.

Writes src/test/resources/golden/mlp_float32.safetensors and mlp_float64.safetensors, each with
  - the initial parameters ("conv.weight", ...) and batch-norm running statistics ("bn.running_mean", ...),
  - "x" (the images), "targets" (int64),
  - "logits", "loss" and "grad.<parameter>" of the first forward/backward pass,
  - "losses": the loss at each of 5 steps of torch.optim.SGD(lr, momentum), measured before that step's
    update (so losses[0] == loss), and "final.<name>": every parameter and running statistic after the 5 updates.
Both files start from the same parameters and data (float32 values, exactly representable in float64).

The convolution has no bias, as usual before batch norm: training-mode batch norm subtracts the
per-channel batch mean, so a conv bias there has an exact gradient of zero and any computed value
is rounding noise that cannot be compared.

Run with Debian's python3-torch: /usr/bin/python3 test-vectors/mlp_golden.py
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import golden_io

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "test", "resources", "golden")
LR, MOMENTUM, STEPS = 0.05, 0.9, 5
BN_MOMENTUM, BN_EPS = 0.1, 1e-5


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1, bias=False)  # see the docstring
        self.bn = nn.BatchNorm2d(4, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.fc1 = nn.Linear(64, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        h = F.max_pool2d(torch.relu(self.bn(self.conv(x))), 2)
        return self.fc2(F.gelu(self.fc1(h.flatten(1)), approximate="tanh"))


def make_net(dtype, init):
    net = Net().to(dtype)
    net.load_state_dict({k: v.to(dtype) for k, v in init.items()}, strict=False)  # all but num_batches_tracked
    return net.train()


def run(dtype, init, x, targets):
    net = make_net(dtype, init)
    x = x.to(dtype)
    state = {k: v.to(dtype) for k, v in init.items()}
    logits = net(x)
    loss = F.cross_entropy(logits, targets)
    params = dict(net.named_parameters())
    grads = torch.autograd.grad(loss, list(params.values()))

    # the same first pass again, now inside the optimizer loop, on a fresh copy (the pass above moved
    # the running statistics)
    net = make_net(dtype, init)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        step_loss = F.cross_entropy(net(x), targets)
        step_loss.backward()
        opt.step()
        losses.append(step_loss.detach())
    assert torch.equal(losses[0], loss.detach())

    tensors = dict(state)
    tensors["x"] = x
    tensors["targets"] = targets
    tensors["logits"] = logits.detach()
    tensors["loss"] = loss.detach()
    tensors.update({"grad." + k: g for k, g in zip(params, grads)})
    tensors["losses"] = torch.stack(losses)
    tensors.update({"final." + k: v.clone() for k, v in net.state_dict().items() if "num_batches" not in k})
    meta = {"lr": LR, "momentum": MOMENTUM, "steps": STEPS, "bn_momentum": BN_MOMENTUM, "bn_eps": BN_EPS}
    name = "mlp_" + str(dtype).replace("torch.", "") + ".safetensors"
    golden_io.save(os.path.join(OUT_DIR, name), tensors, meta)
    print(name + ": loss " + repr(loss.item()) + ", losses " + str([round(l.item(), 6) for l in losses]))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    torch.manual_seed(1234)
    # float32, PyTorch's default initialization
    init = {k: v.clone() for k, v in Net().state_dict().items() if "num_batches" not in k}
    # give batch norm a non-trivial affine transform and running statistics
    init["bn.weight"] = 1 + 0.2 * torch.randn(4)
    init["bn.bias"] = 0.2 * torch.randn(4)
    init["bn.running_mean"] = 0.1 * torch.randn(4)
    init["bn.running_var"] = 1 + 0.1 * torch.rand(4)
    x = torch.randn(6, 1, 8, 8)
    targets = torch.tensor([0, 2, 1, 1, 0, 2])
    for dtype in (torch.float32, torch.float64):
        run(dtype, init, x, targets)


if __name__ == "__main__":
    main()
