"""Occlusion and frequency analyses: batched (as ``lkadv analyze`` runs them) against a per-image loop.

Both sides score the same images with the same model. The batched side is the
registered analysis itself (``compute`` of one unit: masks or band noise made
for the whole batch on the device, one forward per batch). The baseline is what
the study's scripts amount to per image: make the image's mask (the same masks)
or noise, run the model on it alone. Rounds alternate (baseline, batched,
baseline, ...) and the median ratio is printed, so machine noise hits both.

    python bench/analyses_throughput.py [--models fm-replknet,fm-vit] [--images 500] [--rounds 3] [--device auto]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from lkadv.analyses import ModelContext, anatomy_of, apply_patch_mask, band_noise, random_patch_masks
from lkadv.datasets import load_fashion_mnist
from lkadv.executors import pick_device
from lkadv.models import build_classifier
from lkadv.planner import derive_seed
from lkadv.plugins import PluginHost

UNITS = {"occlusion": "random:5", "frequency": "band:0.5"}


def _analysis(host: PluginHost, name: str) -> Any:
    ref = host.registries.analyses.get(name).run
    module, _, attr = str(ref).partition(":")
    params = {"modes": "random"} if name == "occlusion" else {}
    return getattr(importlib.import_module(module), attr)(**params)


def _per_image(name: str, model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> int:
    hits = 0
    if name == "occlusion":
        masks = random_patch_masks(
            len(x), 49, 24, torch.Generator().manual_seed(derive_seed(0, "occlusion", UNITS[name]))
        )
    with torch.no_grad():
        for i in range(len(x)):
            xi = x[i : i + 1].to(device)
            if name == "occlusion":
                xi = apply_patch_mask(xi, masks[i : i + 1], 7)
            else:
                gen = torch.Generator(device=device).manual_seed(i)
                xi = (xi + band_noise(tuple(xi.shape), 0.5, 0.05, 0.1, gen, device=device)).clamp(0, 1)
            hits += int(model(xi).argmax(1).item() == int(y[i]))
    return hits


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main() -> None:
    """Print images/s of both sides and their ratio, per model and analysis."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="fm-replknet,fm-vit")
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = pick_device(args.device)
    host = PluginHost(entry_points=False)
    images, labels = load_fashion_mnist("test")
    x = torch.from_numpy(images[: args.images]).float().div(255)[:, None].to(device)
    y = torch.from_numpy(labels[: args.images])
    print(f"{args.images} images on {device}; median of {args.rounds} rounds")
    print(f"{'model':<16}{'analysis':<11}{'loop img/s':>11}{'batched img/s':>15}{'ratio':>8}  accuracy loop / batched")
    for name in args.models.split(","):
        spec = host.registries.models.get(name)
        model, _ = build_classifier(spec, device=device, channels_last=False)
        ctx = ModelContext(
            spec=spec,
            model=model,
            network=model.network,
            anatomy=anatomy_of(model.network, spec.anatomy),
            branch_kernels={},
            images=lambda: (x, y),
            seed=0,
            device=device,
            batch_size=500,
        )
        for analysis in UNITS:
            study = _analysis(host, analysis)
            loops, batched, accs = [], [], (0, 0)
            for _ in range(args.rounds):
                t_loop, loop_hits = _timed(lambda a=analysis, m=model: _per_image(a, m, x, y, device))
                t_batch, result = _timed(lambda s=study, a=analysis, c=ctx: s.compute(c, UNITS[a]))
                loops.append(t_loop)
                batched.append(t_batch)
                accs = (loop_hits, result["correct"])
            loop_rate, batch_rate = args.images / statistics.median(loops), args.images / statistics.median(batched)
            print(
                f"{name:<16}{analysis:<11}{loop_rate:>11.0f}{batch_rate:>15.0f}{batch_rate / loop_rate:>7.1f}x"
                f"  {accs[0] / args.images:.3f} / {accs[1] / args.images:.3f}"
            )


if __name__ == "__main__":
    main()
