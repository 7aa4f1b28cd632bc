"""Times the PyTorch reference DeformUX-Net (grid_sample DDC) for comparison with `deformux bench model`.

/usr/bin/python3 tools/reference/bench_torch.py --config lite --patch 96 --threads 2
Prints one JSON line: forward_ms, train_step_ms (forward + backward of DiceCE-like CE loss + AdamW step), peak_rss_mb.
"""

import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deformuxnet import PRESETS, DeformUXNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="lite")
    ap.add_argument("--patch", type=int, default=96)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = DeformUXNet(PRESETS[args.config])
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("offset.pw2.weight"):
                p.normal_(0, 0.02)  # fractional offsets, as in `bench model`
    p = args.patch
    x = torch.randn(1, 1, p, p, p)
    y = torch.randint(0, 3, (1, p, p, p))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    with torch.no_grad():
        t = time.perf_counter()
        model(x)
        fwd = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    step = (time.perf_counter() - t) * 1000
    print(json.dumps({"impl": "pytorch-reference", "torch": torch.__version__, "threads": args.threads, "config": args.config,
                      "patch": p, "forward_ms": round(fwd), "train_step_ms": round(step),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
