#!/usr/bin/env python3
"""PyTorch goldens for the native kernel tests (tests/goldens/kernels/*.json).

DeformDwConv3D is written from MODEL.md section 1 with grid_sample (bilinear, zeros padding,
align_corners=True): for every kernel point p, the group's channels are sampled at
(d+i-r+off_D, h+j-r+off_H, w+l-r+off_W), multiplied by weight[c,0,i,j,l] and summed, plus bias.
The depthwise conv goldens use conv3d(groups=C, padding=k//2). Everything runs in float64; gradients come
from autograd with a fixed random dy. Files store channels-last arrays (the engine's layout):
x [N,D,H,W,C], offset [N,D,H,W,G*K*3], weight [k,k,k,C], as little-endian float32 in base64.

Run with Debian's python3-torch:  /usr/bin/python3 tools/reference/kernel_goldens.py
"""
import base64
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

VERSION = "kernel-goldens-v1"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "goldens", "kernels")


def ddc_grid_sample(x, offset, weight, bias, k, groups):
    """x [N,C,D,H,W], offset [N,G*K*3,D,H,W], weight [C,1,k,k,k], bias [C] -> y [N,C,D,H,W]."""
    n, c, d, h, w = x.shape
    K = k ** 3
    r = k // 2
    cpg = c // groups
    dd, hh, ww = torch.meshgrid(
        torch.arange(d, dtype=x.dtype), torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij"
    )
    y = bias.view(1, c, 1, 1, 1).expand(n, c, d, h, w).clone()
    for g in range(groups):
        xg = x[:, g * cpg : (g + 1) * cpg]
        for p in range(K):
            i, j, l = p // (k * k), (p // k) % k, p % k
            base = (g * K + p) * 3
            pd = dd + (i - r) + offset[:, base + 0]
            ph = hh + (j - r) + offset[:, base + 1]
            pw = ww + (l - r) + offset[:, base + 2]
            # align_corners=True: -1 is voxel 0, +1 is voxel size-1.
            grid = torch.stack([2 * pw / (w - 1) - 1, 2 * ph / (h - 1) - 1, 2 * pd / (d - 1) - 1], dim=-1)
            sampled = F.grid_sample(xg, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
            y[:, g * cpg : (g + 1) * cpg] += weight[g * cpg : (g + 1) * cpg, 0, i, j, l].view(1, cpg, 1, 1, 1) * sampled
    return y


def b64(t):
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
    return base64.b64encode(a.tobytes()).decode("ascii")


def cl5(t):  # NCDHW -> NDHWC
    return t.permute(0, 2, 3, 4, 1)


def weight_cl(wt):  # [C,1,k,k,k] -> [k,k,k,C]
    return wt[:, 0].permute(1, 2, 3, 0)


def deform_case(name, shape, k, groups, offsets, seed, compare):
    g = torch.Generator().manual_seed(seed)
    n, d, h, w, c = shape
    K = k ** 3
    x = torch.randn(n, c, d, h, w, generator=g, dtype=torch.float64)
    if offsets == "zero":
        off = torch.zeros(n, groups * K * 3, d, h, w, dtype=torch.float64)
    elif offsets == "integer":
        off = torch.randint(-2, 3, (n, groups * K * 3, d, h, w), generator=g).double()
    elif offsets == "fractional":
        off = torch.randn(n, groups * K * 3, d, h, w, generator=g, dtype=torch.float64) * 1.5
    elif offsets == "far":
        off = torch.randn(n, groups * K * 3, d, h, w, generator=g, dtype=torch.float64)
        far = torch.rand(n, groups * K, 1, d, h, w, generator=g) < 0.5
        sign = torch.where(torch.rand(n, groups * K, 1, d, h, w, generator=g) < 0.5, -1.0, 1.0).double()
        off = off.view(n, groups * K, 3, d, h, w)
        off = torch.where(far, sign * 1000.0 + off, off).view(n, groups * K * 3, d, h, w)
    else:
        raise ValueError(offsets)
    # Keep sample points off exact cell borders for the offset gradient (it is one-sided there).
    if offsets == "fractional":
        frac = off - off.floor()
        off = torch.where((frac < 1e-3) | (frac > 1 - 1e-3), off + 0.01, off)
    wt = torch.randn(c, 1, k, k, k, generator=g, dtype=torch.float64)
    bias = torch.randn(c, generator=g, dtype=torch.float64)
    dy = torch.randn(n, c, d, h, w, generator=g, dtype=torch.float64)
    for t in (x, off, wt, bias):
        t.requires_grad_(True)
    y = ddc_grid_sample(x, off, wt, bias, k, groups)
    y.backward(dy)
    return {
        "name": name,
        "op": "deformDwConv3d",
        "shape": list(shape),
        "k": k,
        "groups": groups,
        "offsets": offsets,
        "compare": compare,
        "x": b64(cl5(x)),
        "offset": b64(cl5(off)),
        "weight": b64(weight_cl(wt)),
        "bias": b64(bias),
        "dy": b64(cl5(dy)),
        "y": b64(cl5(y)),
        "dx": b64(cl5(x.grad)),
        "doffset": b64(cl5(off.grad)),
        "dweight": b64(weight_cl(wt.grad)),
        "dbias": b64(bias.grad),
    }


def depthwise_case(name, shape, k, seed):
    g = torch.Generator().manual_seed(seed)
    n, d, h, w, c = shape
    x = torch.randn(n, c, d, h, w, generator=g, dtype=torch.float64, requires_grad=True)
    wt = torch.randn(c, 1, k, k, k, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(c, generator=g, dtype=torch.float64, requires_grad=True)
    dy = torch.randn(n, c, d, h, w, generator=g, dtype=torch.float64)
    y = F.conv3d(x, wt, bias, padding=k // 2, groups=c)
    y.backward(dy)
    return {
        "name": name,
        "op": "depthwiseConv3d",
        "shape": list(shape),
        "k": k,
        "compare": ["y", "dx", "dweight", "dbias"],
        "x": b64(cl5(x)),
        "weight": b64(weight_cl(wt)),
        "bias": b64(bias),
        "dy": b64(cl5(dy)),
        "y": b64(cl5(y)),
        "dx": b64(cl5(x.grad)),
        "dweight": b64(weight_cl(wt.grad)),
        "dbias": b64(bias.grad),
    }


def main():
    all_grads = ["y", "dx", "doffset", "dweight", "dbias"]
    no_offset_grad = ["y", "dx", "dweight", "dbias"]  # positions on integers: d/doffset is one-sided
    cases = [
        deform_case("x=[1,3,3,4,4] k=3 G=1 offsets=zero", (1, 3, 3, 4, 4), 3, 1, "zero", 1, no_offset_grad),
        deform_case("x=[1,3,3,4,4] k=3 G=1 offsets=integer", (1, 3, 3, 4, 4), 3, 1, "integer", 2, no_offset_grad),
        deform_case("x=[2,2,3,4,6] k=3 G=2 offsets=fractional", (2, 2, 3, 4, 6), 3, 2, "fractional", 3, all_grads),
        deform_case("x=[1,2,3,3,4] k=3 G=4 offsets=fractional", (1, 2, 3, 3, 4), 3, 4, "fractional", 4, all_grads),
        deform_case("x=[1,2,3,3,2] k=5 G=1 offsets=fractional", (1, 2, 3, 3, 2), 5, 1, "fractional", 5, all_grads),
        deform_case("x=[1,3,3,3,2] k=3 G=1 offsets=far", (1, 3, 3, 3, 2), 3, 1, "far", 6, all_grads),
        depthwise_case("x=[1,4,5,6,5] k=3", (1, 4, 5, 6, 5), 3, 7),
        depthwise_case("x=[2,4,5,5,3] k=5", (2, 4, 5, 5, 3), 5, 8),
        depthwise_case("x=[1,6,7,7,2] k=7", (1, 6, 7, 7, 2), 7, 9),
    ]
    os.makedirs(OUT, exist_ok=True)
    doc = {
        "version": VERSION,
        "generator": "tools/reference/kernel_goldens.py",
        "torch": torch.__version__,
        "layout": "channels-last float32 little-endian, base64",
        "cases": cases,
    }
    path = os.path.join(OUT, f"{VERSION}.json")
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path) // 1024} KB, {len(cases)} cases, torch {torch.__version__})")


if __name__ == "__main__":
    sys.exit(main())
