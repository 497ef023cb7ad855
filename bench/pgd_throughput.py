"""Classifier-level bench: lkadv PGD against torchattacks PGD / PGDL2 on the mini zoo, side by side.

This attacks each model directly (no run, ledger or scoring path); the user's
path end to end, ``lkadv run`` by phase, is ``bench/main_job.py``.

Both attack the same Classifier (normalization inside, so torchattacks gets [0,1]
input) on the same batch with the same eps, steps and step size (eps/4). Each
configuration is timed in interleaved rounds (torchattacks, lkadv, lkadv+ES,
torchattacks, ...) and the median ratio is printed, so machine noise hits all
sides alike.

    python bench/pgd_throughput.py [--models preset:mini-zoo] [--grid linf:8/255,l2:1.0,...]
                                   [--batch 500] [--steps 10] [--rounds 3] [--no-curve]

Prints, per model and threat: images/s of torchattacks PGD-10, of lkadv PGD-10
without early stop (the same work: lkadv differentiates a BatchNorm-folded copy
of the model and splits each step into CPU lanes), and of lkadv PGD-10 with early
stop (batch compaction: fooled samples leave the batch), the two ratios over torchattacks,
and the robust accuracies of the three (lkadv keeps the first iterate that
fooled a sample, so its robust accuracy is never above torchattacks' by more
than noise). ``work`` is the share of the sample-steps of PGD-10 that early stop
still does (counted in an extra, untimed run): ``1/work`` is the best ratio
compaction can give, since a sample that resists takes every step. The default
grid spans small radii (most samples resist: ``work`` near 0.5-0.7) to large
ones (16/255, L2 2.0: most fall within two steps), so the ratio is shown where
early stop has little to drop and where it has much.

A second table (``--curve``, on by default) times what a user runs: the whole
robustness curve over the dataset's L-inf eps grid (1, 2, 4, 8/255), clean
accuracy included, from the model spec to the accuracies. torchattacks' side
builds the Classifier, scores the clean batch, then attacks the whole batch at
every eps and scores each result. lkadv's side is ``lkadv.run`` on the same
images (its seeded subset; ledger, sanity probe and all), where a sample wrong
when clean is not attacked, a sample fooled at a smaller eps is not attacked
again, and early stop drops fooled samples from the batch.
``--ablation`` adds a column: lkadv PGD-10 without early stop, BatchNorm
folding and lanes (``LKADV_FOLD_BN=0 LKADV_CPU_LANES=1``), i.e. the same work
on the same model as torchattacks, to show where the ratio comes from.
Requires torchattacks (``pip install --no-deps torchattacks==3.5.1``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

import torch

from lkadv.attacks import PGD
from lkadv.config import RunOptions, load_options, parse_eps
from lkadv.datasets._fashion_mnist import load_fashion_mnist
from lkadv.errors import WeightsError
from lkadv.models import build_classifier
from lkadv.plugins import PluginHost
from lkadv.runner import plan_run, run
from lkadv.specs import ModelSpec


class _Rows(torch.nn.Module):
    """Counts the samples each forward pass sees (the work early stop leaves)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.rows = 0
        self._lock = threading.Lock()  # lanes call forward from several threads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with self._lock:
            self.rows += len(x)
        return self.model(x)


def _bare(attack: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``attack`` run with BatchNorm folding and CPU lanes switched off."""

    def run(*args: object) -> torch.Tensor:
        saved = {k: os.environ.get(k) for k in ("LKADV_FOLD_BN", "LKADV_CPU_LANES")}
        os.environ.update(LKADV_FOLD_BN="0", LKADV_CPU_LANES="1")
        try:
            return attack(*args)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    return run


def _timed(fn: Callable[..., torch.Tensor], *args: object) -> tuple[float, torch.Tensor]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def _grid(text: str) -> list[tuple[str, float]]:
    out = []
    for item in text.split(","):
        norm, _, eps = item.partition(":")
        out.append((norm.strip(), parse_eps(eps, "--grid")[0]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="preset:mini-zoo")
    parser.add_argument("--grid", default="linf:4/255,linf:8/255,linf:16/255,l2:0.5,l2:1.0,l2:2.0", help="norm:eps,...")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--curve", action=argparse.BooleanOptionalAction, default=True, help="whole-curve table")
    parser.add_argument("--ablation", action="store_true", help="also time lkadv without folding and lanes")
    args = parser.parse_args()

    import torchattacks

    host = PluginHost(entry_points=False)
    images, labels = load_fashion_mnist("test")
    step = len(images) // args.batch
    x = torch.from_numpy(images[::step][: args.batch]).float().div(255)[:, None]
    y = torch.from_numpy(labels[::step][: args.batch])
    threads = torch.get_num_threads()
    print(f"batch {args.batch}, {args.steps} steps of eps/4, random start, torch threads {threads}")
    print(
        f"{'model':16s} {'threat':12s} {'torchattacks':>13s} {'lkadv':>10s} {'lkadv+ES':>10s} {'ratio':>6s}"
        f" {'ratio+ES':>9s} {'work':>5s} {'rob.acc ta/lk/lk+ES':>22s}"
        + ("  ratio(no fold, no lanes)" if args.ablation else "")
    )
    ratios: dict[str, list[float]] = {"plain": [], "es": []}
    per_threat: dict[str, list[float]] = {}
    for spec in host.registries.models.select(args.models):
        try:
            clf, _ = build_classifier(spec)
        except WeightsError as exc:
            print(f"{spec.name:16s} skipped: {exc}")
            continue
        for norm, eps in _grid(args.grid):
            alpha = eps / 4
            if norm == "linf":
                theirs = torchattacks.PGD(clf, eps=eps, alpha=alpha, steps=args.steps, random_start=True)
            else:
                theirs = torchattacks.PGDL2(clf, eps=eps, alpha=alpha, steps=args.steps, random_start=True)
            plain = PGD(norm=norm, steps=args.steps, rel_step=0.25, random_start=True, early_stop=False)
            early = PGD(norm=norm, steps=args.steps, rel_step=0.25, random_start=True, early_stop=True)
            runs: dict[str, list[float]] = {"ta": [], "plain": [], "es": []}
            results: dict[str, torch.Tensor] = {}
            calls: dict[str, tuple[Callable[..., torch.Tensor], tuple[object, ...]]] = {
                "ta": (theirs, (x, y)),
                "plain": (plain, (clf, x, y, eps, torch.Generator().manual_seed(0))),
                "es": (early, (clf, x, y, eps, torch.Generator().manual_seed(0))),
            }
            if args.ablation:
                runs["bare"] = []
                calls["bare"] = (_bare(plain), (clf, x, y, eps, torch.Generator().manual_seed(0)))
            for _ in range(args.rounds):
                for key, (fn, fn_args) in calls.items():
                    seconds, results[key] = _timed(fn, *fn_args)
                    runs[key].append(seconds)
            counter = _Rows(clf)
            early(counter, x, y, eps, torch.Generator().manual_seed(0))
            work = counter.rows / (args.batch * args.steps)
            with torch.no_grad():
                acc = {k: float((clf(v).argmax(1) == y).float().mean()) for k, v in results.items()}
            med = {k: statistics.median(v) for k, v in runs.items()}
            r_plain, r_es = med["ta"] / med["plain"], med["ta"] / med["es"]
            ratios["plain"].append(r_plain)
            ratios["es"].append(r_es)
            label = f"{norm}:{eps:.4g}"
            per_threat.setdefault(label, []).append(r_es)
            print(
                f"{spec.name:16s} {label:12s} {args.batch / med['ta']:10.0f}/s {args.batch / med['plain']:8.0f}/s "
                f"{args.batch / med['es']:8.0f}/s {r_plain:6.2f} {r_es:9.2f} {work:5.2f} "
                f"{acc['ta']:8.3f}/{acc['plain']:.3f}/{acc['es']:.3f}"
                + (f"  {med['ta'] / med['bare']:6.2f}" if args.ablation else "")
            )
    if not ratios["plain"]:
        return
    print(
        f"geometric mean ratio over torchattacks: without early stop {statistics.geometric_mean(ratios['plain']):.2f}, "
        f"with early stop {statistics.geometric_mean(ratios['es']):.2f}"
    )
    for label, values in per_threat.items():
        print(f"  with early stop at {label}: {statistics.geometric_mean(values):.2f}")
    if args.curve:
        _curves(host, args)


def _curves(host: PluginHost, args: argparse.Namespace) -> None:
    grid = host.registries.datasets.get("fashion-mnist").default_eps["linf"]
    print(
        f"\nrobustness curve, L-inf eps {', '.join(f'{e * 255:g}/255' for e in grid)}, PGD-{args.steps}, "
        f"{args.batch} images, clean accuracy included"
    )
    print(f"{'model':16s} {'torchattacks':>13s} {'lkadv run':>10s} {'ratio':>6s}  robust accuracy ta | lkadv")
    ratios = []
    for spec in host.registries.models.select(args.models):
        try:
            build_classifier(spec)
        except WeightsError:
            continue
        times: dict[str, list[float]] = {"ta": [], "lk": []}
        accs: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="lkadv-bench-") as tmp:
                seconds, accs["lk"] = _timed_curve(_lkadv_curve, host, spec, grid, args, tmp)
                times["lk"].append(seconds)
                seconds, accs["ta"] = _timed_curve(_torchattacks_curve, host, spec, grid, args, tmp)
                times["ta"].append(seconds)
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = med["ta"] / med["lk"]
        ratios.append(ratio)
        fmt = "/".join(f"{a:.3f}" for a in accs["ta"]), "/".join(f"{a:.3f}" for a in accs["lk"])
        print(f"{spec.name:16s} {med['ta']:12.1f}s {med['lk']:9.1f}s {ratio:6.2f}  {fmt[0]} | {fmt[1]}")
    if ratios:
        print(f"geometric mean ratio over torchattacks, whole curve: {statistics.geometric_mean(ratios):.2f}")


def _timed_curve(
    fn: Callable[..., list[float]], host: PluginHost, spec: ModelSpec, grid: tuple[float, ...], *rest: object
) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    accs = fn(host, spec, grid, *rest)
    return time.perf_counter() - t0, accs


def _curve_options(spec: ModelSpec, grid: tuple[float, ...], args: argparse.Namespace, tmp: str) -> RunOptions:
    return load_options(
        {
            "models": spec.name,
            "attacks": "pgd",
            "eps": ",".join(repr(e) for e in grid),
            "attack_params": {"pgd": {"steps": args.steps, "rel_step": 0.25}},
            "limit": args.batch,
            "shard_size": args.batch,
            "batch_size": args.batch,
            "run_dir": f"{tmp}/run",
            "device": "cpu",
        },
        env={},
        config_file=None,
    )


def _lkadv_curve(
    host: PluginHost, spec: ModelSpec, grid: tuple[float, ...], args: argparse.Namespace, tmp: str
) -> list[float]:
    result = run(_curve_options(spec, grid, args, tmp), host=host)
    by_eps = {c.eps: c.accuracy.value for c in result.summary.cells if c.kind == "attack" and c.accuracy}
    return [by_eps[e] for e in grid]


def _torchattacks_curve(
    host: PluginHost, spec: ModelSpec, grid: tuple[float, ...], args: argparse.Namespace, tmp: str
) -> list[float]:
    import torchattacks

    plan = plan_run(_curve_options(spec, grid, args, tmp), host)
    images, labels = load_fashion_mnist("test")
    pos = list(plan.subset.positions)
    x = torch.from_numpy(images[pos]).float().div(255)[:, None]
    y = torch.from_numpy(labels[pos]).long()
    clf, _ = build_classifier(spec)
    with torch.no_grad():
        clf(x).argmax(1)  # clean accuracy, as the curve's first point
    accs = []
    for eps in grid:
        attack = torchattacks.PGD(clf, eps=eps, alpha=eps / 4, steps=args.steps, random_start=True)
        adv = attack(x, y)
        with torch.no_grad():
            accs.append(float((clf(adv).argmax(1) == y).float().mean()))
    return accs


if __name__ == "__main__":
    main()
