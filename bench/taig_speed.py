"""TAIG crafting speed: lkadv's batched TAIG against a naive per-image loop, side by side.

The naive loop is the structure of the authors' released script: each image on
its own, its path points stacked into one batch, the integrated gradient
computed image by image. lkadv's TAIG sends one path point of the whole batch
through the model at a time (on the BatchNorm-folded copy, in CPU lanes).
Both craft on the same Classifier with the same settings; rounds alternate
(naive, lkadv, naive, ...) and the median ratio is printed. The examples are
compared too: the share of pixels where the two differ (sign ties only).

    python bench/taig_speed.py [--model fm-resnet] [--n 32] [--iterations 2] [--path-steps 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from lkadv.attacks import TAIG
from lkadv.datasets import load_fashion_mnist
from lkadv.models import build_classifier
from lkadv.plugins import PluginHost


def naive_taig(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, iters: int, steps: int):
    """Image by image: the path of one image as a batch, its IG, a sign step, the projection."""
    adv = x.clone()
    for _ in range(iters):
        igs = []
        for i in range(len(x)):
            scales = torch.arange(steps + 1, dtype=x.dtype).div(steps).reshape(-1, 1, 1, 1)
            path = (scales * adv[i : i + 1]).requires_grad_(True)
            logit = model(path)[:, int(y[i])].sum()
            (grad,) = torch.autograd.grad(logit, path)
            igs.append(adv[i] * grad.mean(0))
        ig = torch.stack(igs)
        adv = torch.minimum(torch.maximum(adv - ig.sign() / 255, (x - eps).clamp(min=0)), (x + eps).clamp(max=1))
    return adv


def main() -> None:
    """Print img/s of both and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fm-resnet")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=2)
    parser.add_argument("--path-steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    host = PluginHost(entry_points=False)
    clf, _ = build_classifier(host.registries.models.get(args.model))
    for p in clf.parameters():
        p.requires_grad_(False)
    images, labels = load_fashion_mnist("test")
    x = torch.from_numpy(images[: args.n]).float().div(255)[:, None]
    y = torch.from_numpy(labels[: args.n])
    eps = min(8, args.iterations) / 255  # reachable: no warning, the whole ball used
    times: dict[str, list[float]] = {"naive": [], "lkadv": []}
    out = {}
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        out["naive"] = naive_taig(clf, x, y, eps, args.iterations, args.path_steps)
        times["naive"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        attack = TAIG(iterations=args.iterations, path_steps=args.path_steps)
        out["lkadv"] = attack(clf, x, y, eps, torch.Generator().manual_seed(0))
        times["lkadv"].append(time.perf_counter() - t0)
    rate = {k: args.n / statistics.median(v) for k, v in times.items()}
    differ = float((out["naive"] - out["lkadv"]).abs().gt(1e-6).double().mean())
    print(
        f"{args.model}: n={args.n} iterations={args.iterations} path_steps={args.path_steps} "
        f"threads={torch.get_num_threads()}"
    )
    print(f"  naive per-image loop: {rate['naive']:8.1f} img/s")
    print(f"  lkadv TAIG (batched): {rate['lkadv']:8.1f} img/s")
    print(f"  ratio lkadv/naive:    {rate['lkadv'] / rate['naive']:8.2f}x   (pixels that differ: {100 * differ:.2f}%)")
    print(
        f"  median of {args.rounds} alternating rounds; {np.round(times['naive'], 3)} vs {np.round(times['lkadv'], 3)}"
    )


if __name__ == "__main__":
    main()
