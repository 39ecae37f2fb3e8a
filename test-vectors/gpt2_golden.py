#!/usr/bin/python3
"""Golden vectors for grad4j's GPT-2 (run with Debian's /usr/bin/python3 and python3-torch).

For each small config this writes, under src/test/resources/golden/gpt2/<name>/:
  config.json, model.safetensors  -- a Hugging Face GPT-2 directory (HF names, Conv1D weights [in, out])
  debug_state.safetensors         -- inputs, targets, logits, loss, every parameter gradient
                                     ("grad.<name>"), and the losses of 10 AdamW steps, with the
                                     AdamW hyperparameters in the metadata

The model is a minimal GPT-2 in plain PyTorch (nanoGPT-style, no `transformers`), written from the
architecture: pre-LayerNorm blocks, causal softmax(q k^T / sqrt(d)) with -inf masking, tanh GELU,
tied output embedding. Like llm.c's train_gpt2.py, this file is the specification the Java test is
held to; it never reads anything grad4j produced.

Usage: /usr/bin/python3 test-vectors/gpt2_golden.py [output root]
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "src/test/resources/golden/gpt2")

# (name, n_layer, n_head, n_embd, n_positions, vocab, B, T, seed, options)
CONFIGS = [
    # the odd one the issue asks for: 3 layers, 3 heads of width 16, vocabulary 97, full context
    ("odd-3l-3h-48", 3, 3, 48, 16, 97, 2, 16, 1234, {}),
    # a narrower model, batch 4, T shorter than the context, some targets ignored (-1), and the
    # layout some exports use: a "transformer." prefix plus an lm_head.weight equal to wte
    ("small-2l-2h-16", 2, 2, 16, 8, 32, 4, 7, 99, {"ignore": True, "hf_prefix": True}),
    # a single head of width 8, one layer
    ("tiny-1l-1h-8", 1, 1, 8, 4, 11, 3, 4, 7, {}),
]

ADAMW = dict(lr=3e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
STEPS = 10


class Conv1D(nn.Module):
    """HF GPT-2's Conv1D: weight [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(nn.Module):
    def __init__(self, c, n_head, t_max):
        super().__init__()
        self.n_head = n_head
        self.c_attn = Conv1D(c, 3 * c)
        self.c_proj = Conv1D(c, c)
        self.register_buffer("mask", torch.tril(torch.ones(t_max, t_max)).view(1, 1, t_max, t_max), persistent=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        d = c // self.n_head
        q = q.view(b, t, self.n_head, d).transpose(1, 2)
        k = k.view(b, t, self.n_head, d).transpose(1, 2)
        v = v.view(b, t, self.n_head, d).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = Conv1D(c, 4 * c)
        self.c_proj = Conv1D(4 * c, c)

    def forward(self, x):
        return self.c_proj(gelu_tanh(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c, n_head, t_max, eps):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c, eps=eps)
        self.attn = Attention(c, n_head, t_max)
        self.ln_2 = nn.LayerNorm(c, eps=eps)
        self.mlp = Mlp(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2(nn.Module):
    def __init__(self, n_layer, n_head, c, t_max, vocab, eps=1e-5):
        super().__init__()
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(t_max, c)
        self.h = nn.ModuleList([Block(c, n_head, t_max, eps) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(c, eps=eps)
        # GPT-2 init: N(0, 0.02); residual projections N(0, 0.02 / sqrt(2 L)); biases 0; LayerNorm 1/0
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer))
            elif name.endswith(".weight") and p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
        # Then move every bias and LayerNorm parameter off its initial value, so that a swapped or
        # ignored bias/gain in the Java model changes the logits and cannot pass by accident.
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.dim() == 1:
                    p.add_(0.05 * torch.randn_like(p))

    def forward(self, idx, targets=None):
        b, t = idx.shape
        pos = torch.arange(t)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        logits = x @ self.wte.weight.t()
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer: 8-byte LE header length, JSON header, row-major LE data."""
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
        data = t.numpy().astype("<" + t.numpy().dtype.str[1:]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def hf_config(n_layer, n_head, c, t_max, vocab):
    return {
        "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "activation_function": "gelu_new",
        "n_layer": n_layer, "n_head": n_head, "n_embd": c, "n_positions": t_max, "n_ctx": t_max,
        "vocab_size": vocab, "layer_norm_epsilon": 1e-5,
        "embd_pdrop": 0.0, "attn_pdrop": 0.0, "resid_pdrop": 0.0,
    }


def main():
    torch.set_num_threads(1)
    for name, n_layer, n_head, c, t_max, vocab, b, t, seed, opts in CONFIGS:
        torch.manual_seed(seed)
        model = GPT2(n_layer, n_head, c, t_max, vocab)
        idx = torch.randint(0, vocab, (b, t), dtype=torch.int64)
        targets = torch.randint(0, vocab, (b, t), dtype=torch.int64)
        if opts.get("ignore"):
            targets[0, :3] = -1  # e.g. prompt positions
            targets[2, -1] = -1

        out_dir = os.path.join(OUT, name)
        os.makedirs(out_dir, exist_ok=True)
        state = dict(model.named_parameters())
        weights = {k: v for k, v in state.items()}
        if opts.get("hf_prefix"):
            weights = {"transformer." + k: v for k, v in state.items()}
            for i in range(n_layer):  # HF's causal-mask buffers, which a loader must skip
                weights["transformer.h.%d.attn.bias" % i] = torch.tril(torch.ones(t_max, t_max)).view(1, 1, t_max, t_max)
            weights["lm_head.weight"] = state["wte.weight"]
        write_safetensors(os.path.join(out_dir, "model.safetensors"), weights)
        with open(os.path.join(out_dir, "config.json"), "w") as f:
            json.dump(hf_config(n_layer, n_head, c, t_max, vocab), f, indent=2)

        logits, loss = model(idx, targets)
        model.zero_grad()
        loss.backward()
        debug = {
            "inputs": idx.to(torch.int32), "targets": targets.to(torch.int32),
            "logits": logits, "loss": loss.reshape(1),
        }
        for k, p in model.named_parameters():
            debug["grad." + k] = p.grad.detach().clone()  # clone: zero_grad() below zeroes .grad in place

        # 10 AdamW steps as nanoGPT configures them: weight decay on matrices (dim >= 2) only
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": ADAMW["weight_decay"]},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
        losses = []
        for _ in range(STEPS):
            opt.zero_grad()
            _, step_loss = model(idx, targets)
            step_loss.backward()
            opt.step()
            losses.append(step_loss.item())
        debug["adamw_losses"] = torch.tensor(losses, dtype=torch.float32)
        meta = {"config": name, "lr": ADAMW["lr"], "beta1": ADAMW["betas"][0], "beta2": ADAMW["betas"][1],
                "eps": ADAMW["eps"], "weight_decay": ADAMW["weight_decay"],
                "weight_decay_applies_to": "parameters with dim >= 2", "steps": STEPS,
                "torch": torch.__version__}
        write_safetensors(os.path.join(out_dir, "debug_state.safetensors"), debug, meta)
        print("%s: loss %.6f, AdamW losses %s" % (name, loss.item(), ["%.5f" % x for x in losses]))


if __name__ == "__main__":
    main()
