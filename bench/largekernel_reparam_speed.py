"""Forward throughput of a re-parameterized large-kernel net over its unmerged twin, side by side.

Builds RepLKNet-31B (random weights, non-trivial BatchNorm statistics), copies
it, merges the copy, checks the two agree, then times eval-mode forward passes
of both on the same 224x224 batch, alternating between them so that machine
load affects both alike. Prints images/s for each and the ratio merged/unmerged.
With ``--plain-dwconv`` it also times the unmerged net with the plugin's CPU
channels-last path for wide depthwise kernels turned off (torch's NCHW conv).

    OMP_NUM_THREADS=2 PYTHONPATH=src:plugins/lkadv-largekernel/src python bench/largekernel_reparam_speed.py
    ... --arch slak_tiny --size 224 --batch 4 --rounds 5 --channels-last

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
from lkadv_largekernel._dwconv import DepthwiseConv2d


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
    parser.add_argument(
        "--channels-last", action="store_true", help="run both in channels-last format, as lkadv's Classifier does"
    )
    parser.add_argument(
        "--plain-dwconv", action="store_true", help="also time the unmerged net without the channels-last dw path"
    )
    args = parser.parse_args()

    torch.manual_seed(0)
    unmerged = _randomize_bn(build(args.arch))
    merged = copy.deepcopy(unmerged)
    merged.reparameterize()  # type: ignore[operator]
    models = {"unmerged": unmerged, "merged": merged}
    if args.plain_dwconv:
        plain = copy.deepcopy(unmerged)
        for m in plain.modules():
            if isinstance(m, DepthwiseConv2d):
                m._cpu_channels_last = False
        models = {"plain-dwconv": plain, **models}
    x = torch.rand(args.batch, 3, args.size, args.size)
    if args.channels_last:
        for model in models.values():
            model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        a, b = unmerged(x), merged(x)
        rel = float((a - b).abs().max() / a.abs().max())
        for model in models.values():  # warm-up
            model(x)
        times: dict[str, list[float]] = {k: [] for k in models}
        for _ in range(args.rounds):
            for k, model in models.items():
                times[k].append(_time_once(model, x))
    ips = {k: args.batch / statistics.median(v) for k, v in times.items()}
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print(
        f"{args.arch} @ {args.size}px, batch {args.batch}, {torch.get_num_threads()} thread(s), "
        f"{'channels-last' if args.channels_last else 'NCHW'}, torch {torch.__version__}, CPU; "
        f"merged-vs-unmerged max rel logit error {rel:.2e}"
    )
    for k in models:
        print(f"  {k:12s} {ips[k]:7.2f} img/s  (median of {args.rounds}; {params[k] / 1e6:.2f}M params)")
    print(f"  ratio merged/unmerged: {ips['merged'] / ips['unmerged']:.2f}x")
    if "plain-dwconv" in ips:
        gain = ips["unmerged"] / ips["plain-dwconv"]
        print(f"  ratio unmerged/plain-dwconv (the CPU channels-last dw path): {gain:.2f}x")


if __name__ == "__main__":
    main()
