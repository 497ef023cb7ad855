"""lkadv PGD against torchattacks PGD: throughput ratios on the mini zoo, side by side.

Both attack the same Classifier (normalization inside, so torchattacks gets [0,1]
input) on the same batch with the same eps, steps and step size. Each
configuration is timed in interleaved rounds (lkadv, torchattacks, lkadv, ...)
and the median ratio is printed, so machine noise hits both sides alike.

    python bench/pgd_throughput.py [--models fm-resnet,fm-vit] [--batch 500] [--rounds 3]

Prints, per model: images/s of torchattacks PGD-10, of lkadv PGD-10 without
early stop (same work), and of lkadv PGD-10 with early stop (compaction), and
the two ratios over torchattacks. Requires torchattacks
(``pip install --no-deps torchattacks==3.5.1``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from lkadv.attacks import PGD
from lkadv.datasets._fashion_mnist import load_split
from lkadv.models import build_classifier
from lkadv.plugins import PluginHost


def _timed(fn: Callable[..., torch.Tensor], *args: object) -> tuple[float, torch.Tensor]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="preset:mini-zoo")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--eps", type=float, default=4 / 255)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import torchattacks

    host = PluginHost(entry_points=False)
    images, labels = load_split("test")
    step = len(images) // args.batch
    x = torch.from_numpy(images[::step][: args.batch]).float().div(255)[:, None]
    y = torch.from_numpy(labels[::step][: args.batch])
    alpha = args.eps / 4
    threads = torch.get_num_threads()
    print(f"batch {args.batch}, eps {args.eps:.5f}, {args.steps} steps of eps/4, torch threads {threads}")
    print(
        f"{'model':18s} {'torchattacks':>13s} {'lkadv':>10s} {'lkadv+ES':>10s} {'ratio':>7s} {'ratio+ES':>9s}"
        f" {'rob.acc ta/lk/lk+ES':>22s}"
    )
    all_plain, all_es = [], []
    for spec in host.registries.models.select(args.models):
        clf, _ = build_classifier(spec)
        theirs = torchattacks.PGD(clf, eps=args.eps, alpha=alpha, steps=args.steps, random_start=True)
        plain = PGD(norm="linf", steps=args.steps, rel_step=0.25, random_start=True, early_stop=False)
        early = PGD(norm="linf", steps=args.steps, rel_step=0.25, random_start=True, early_stop=True)
        gen = torch.Generator().manual_seed(0)
        runs: dict[str, list[float]] = {"ta": [], "plain": [], "es": []}
        results: dict[str, torch.Tensor] = {}
        calls: dict[str, tuple[Callable[..., torch.Tensor], tuple[object, ...]]] = {
            "ta": (theirs, (x, y)),
            "plain": (plain, (clf, x, y, args.eps, gen)),
            "es": (early, (clf, x, y, args.eps, gen)),
        }
        for _ in range(args.rounds):
            for key, (fn, fn_args) in calls.items():
                seconds, results[key] = _timed(fn, *fn_args)
                runs[key].append(seconds)
        with torch.no_grad():
            acc = {k: float((clf(v).argmax(1) == y).float().mean()) for k, v in results.items()}
        med = {k: statistics.median(v) for k, v in runs.items()}
        r_plain, r_es = med["ta"] / med["plain"], med["ta"] / med["es"]
        all_plain.append(r_plain)
        all_es.append(r_es)
        print(
            f"{spec.name:18s} {args.batch / med['ta']:10.0f}/s {args.batch / med['plain']:8.0f}/s "
            f"{args.batch / med['es']:8.0f}/s {r_plain:7.2f} {r_es:9.2f} "
            f"{acc['ta']:8.3f}/{acc['plain']:.3f}/{acc['es']:.3f}"
        )
    print(
        f"geometric mean ratio over torchattacks: without early stop {statistics.geometric_mean(all_plain):.2f}, "
        f"with early stop {statistics.geometric_mean(all_es):.2f}"
    )


if __name__ == "__main__":
    main()
