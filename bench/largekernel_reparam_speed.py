"""Forward throughput of a re-parameterized large-kernel net over its unmerged twin, side by side.

Builds RepLKNet-31B (random weights, non-trivial BatchNorm statistics), copies
it, merges the copy, checks the two agree, then times eval-mode forward passes
of both on the same 224x224 batch, alternating between them so that machine
load affects both alike. Prints images/s for each and the ratio merged/unmerged.

    OMP_NUM_THREADS=2 PYTHONPATH=src:plugins/lkadv-largekernel/src python bench/largekernel_reparam_speed.py
    ... --arch slak_tiny --size 224 --batch 4 --rounds 5

Needs lkadv and lkadv-largekernel importable (installed, or on PYTHONPATH as above).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from lkadv_largekernel import build


def _randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert m.running_mean is not None
            assert m.running_var is not None
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
    return model.eval()


def _time_once(model: nn.Module, x: torch.Tensor) -> float:
    start = time.perf_counter()
    model(x)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="replknet_31b")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="timed forward passes per model")
    args = parser.parse_args()

    torch.manual_seed(0)
    unmerged = _randomize_bn(build(args.arch))
    merged = copy.deepcopy(unmerged)
    merged.reparameterize()  # type: ignore[operator]
    x = torch.rand(args.batch, 3, args.size, args.size)
    with torch.inference_mode():
        a, b = unmerged(x), merged(x)
        rel = float((a - b).abs().max() / a.abs().max())
        for model in (unmerged, merged):  # warm-up
            model(x)
        times: dict[str, list[float]] = {"unmerged": [], "merged": []}
        for _ in range(args.rounds):
            times["unmerged"].append(_time_once(unmerged, x))
            times["merged"].append(_time_once(merged, x))
    ips = {k: args.batch / statistics.median(v) for k, v in times.items()}
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in (("unmerged", unmerged), ("merged", merged))}
    print(
        f"{args.arch} @ {args.size}px, batch {args.batch}, {torch.get_num_threads()} thread(s), "
        f"torch {torch.__version__}, CPU; merged-vs-unmerged max rel logit error {rel:.2e}"
    )
    for k in ("unmerged", "merged"):
        print(f"  {k:9s} {ips[k]:7.2f} img/s  (median of {args.rounds}; {params[k] / 1e6:.2f}M params)")
    print(f"  ratio merged/unmerged: {ips['merged'] / ips['unmerged']:.2f}x")


if __name__ == "__main__":
    main()
