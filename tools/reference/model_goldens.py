"""Writes the small DeformUX-Net goldens in tests/goldens/model/tiny from the PyTorch reference.

Run with Debian's torch:  /usr/bin/python3 tools/reference/model_goldens.py
Files (all safetensors written by the small writer below, PyTorch names and layouts):
  config.json            the tiny config (G = 2, non-cubic input so a transposed axis shows)
  weights.safetensors    float32 random weights, offset branches and gamma non-zero
  io.safetensors         input [1, in, D, H, W] f32, grad_output G f32, logits f64 (float64 model)
  grads_f64.safetensors  d sum(logits * G) / d every parameter and `input`, float64 model
  grads_f32.safetensors  the same from the float32 model (what a correct float32 engine may differ by)
  grads_<variant>.safetensors  float64 model with a deliberate bug (see deformuxnet.py), float32 stored
"""

import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deformuxnet import DeformUXNet  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "goldens", "model", "tiny")
CFG = dict(in_channels=1, out_channels=3, feature_sizes=[4, 4, 8, 8], depths=[1, 1, 1, 1], hidden_size=8,
           kernel_size=3, offset_kernel_size=5, deform_groups=2)
SHAPE = [1, 1, 16, 32, 48]  # D, H, W all different
VARIANTS = ["swap_hw", "group_rev", "border"]


def write_safetensors(path, tensors):
    dtypes = {np.float32: "F32", np.float64: "F64"}
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        data = arr.tobytes()
        header[name] = {"dtype": dtypes[arr.dtype.type], "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def randomise(model, gen):
    """Random weights of sensible scale; offsets come out around one voxel so cells are crossed."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma"):
                p.copy_(torch.rand(p.shape, generator=gen) + 0.5)
            elif name.endswith("offset.pw2.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.6)
            elif name.endswith("offset.pw2.bias"):
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
            elif p.dim() == 1:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.2)
            else:
                fan_in = p[0].numel() if "transp_conv" not in name else p.shape[0] * 8
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / fan_in) ** 0.5)
    # LayerNorm weights sit at index `.1` of the stem and `.0` of the downsamplers; catch them all.
    with torch.no_grad():
        for mname, m in model.named_modules():
            if type(m).__name__ == "LayerNormCF":
                m.weight.copy_(1.0 + torch.randn(m.weight.shape, generator=gen) * 0.2)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def grads(model, x, g):
    model.zero_grad()
    x = x.clone().requires_grad_(True)
    y = model(x)
    (y * g).sum().backward()
    out = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    out["input"] = x.grad.detach().clone()
    return y.detach(), out


def main():
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    model = DeformUXNet(CFG)
    randomise(model, gen)
    x = torch.randn(SHAPE, generator=gen)
    g = torch.randn([1, CFG["out_channels"]] + SHAPE[2:], generator=gen)

    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CFG, f, indent=2)
    sd = {k: v.numpy().astype(np.float32) for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(OUT, "weights.safetensors"), sd)

    m64 = DeformUXNet(CFG).double()
    m64.load_state_dict({k: v.double() for k, v in model.state_dict().items()})
    y64, g64 = grads(m64, x.double(), g.double())
    write_safetensors(os.path.join(OUT, "io.safetensors"), {
        "input": x.numpy(), "grad_output": g.numpy(), "logits": y64.numpy()})
    write_safetensors(os.path.join(OUT, "grads_f64.safetensors"), {k: v.numpy() for k, v in g64.items()})

    y32, g32 = grads(model, x, g)
    write_safetensors(os.path.join(OUT, "grads_f32.safetensors"), {k: v.numpy() for k, v in g32.items()})

    def l2rel(a, b):
        return float((a.double() - b).norm() / max(float(b.norm()), 1e-300))

    rel_y = float((y32.double() - y64).abs().max() / y64.abs().max())
    print(f"float32 logits: max abs err / max |y| = {rel_y:.2e}")
    print(f"float32 grads: worst per-tensor L2-rel = {max(l2rel(g32[k], g64[k]) for k in g64):.2e}")
    for v in VARIANTS:
        m64.set_variant(v)
        _, gv = grads(m64, x.double(), g.double())
        m64.set_variant(None)
        worst = max(g64, key=lambda k: l2rel(gv[k], g64[k]))
        print(f"variant {v}: worst per-tensor L2-rel = {l2rel(gv[worst], g64[worst]):.2e} ({worst})")
        write_safetensors(os.path.join(OUT, f"grads_{v}.safetensors"), {k: t.numpy().astype(np.float32) for k, t in gv.items()})
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(f"made by tools/reference/model_goldens.py with torch {torch.__version__}, numpy {np.__version__}\n")


if __name__ == "__main__":
    main()
