"""The main job as a user runs it, ``lkadv run --models all --attacks pgd``: fast paths on vs off, vs torchattacks.

Each variant runs in a fresh Python process (start-up included), in a fresh run
directory, in interleaved rounds so machine noise hits every variant alike:

* ``lkadv``: as shipped (BatchNorm folding and CPU lanes on);
* ``no-fold``: ``LKADV_FOLD_BN=0``;
* ``no-lanes``: ``LKADV_CPU_LANES=1``;
* ``plain``: both off;
* ``torchattacks``: a torchattacks PGD loop over the same plan (same models,
  samples, eps grid, steps, step size and random start; every sample attacked
  at every eps, clean accuracy first), the way a user of torchattacks runs it.

Per phase (seconds, inside the run): start-up (interpreter and imports), plan
and data, model build and checks (identification, merge check, sanity probe),
attack steps, scoring, ledger commits. Prints the median wall time of each
variant and its ratio to ``lkadv``; then a second run of ``lkadv`` in its run
directory, which must compute nothing.

    python bench/main_job.py [--rounds 1] [--limit N]

The Classifier-level attack bench (a model attacked directly, no run) is
``bench/pgd_throughput.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

VARIANTS = {
    "lkadv": {},
    "no-fold": {"LKADV_FOLD_BN": "0"},
    "no-lanes": {"LKADV_CPU_LANES": "1"},
    "plain": {"LKADV_FOLD_BN": "0", "LKADV_CPU_LANES": "1"},
    "torchattacks": {},
}
PHASES = ("start-up", "plan+data", "models+checks", "attack steps", "scoring", "ledger", "other")


def _timed(table: dict[str, float], phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            table[phase] += time.perf_counter() - t0

    return wrapper


def _child_lkadv(run_dir: str, limit: int | None, t_start: float) -> dict[str, float]:
    """Run the main job in this process with every phase timed; returns seconds per phase."""
    phases: dict[str, float] = defaultdict(float)
    import lkadv.executors._attacking as attacking
    import lkadv.executors._local as local
    import lkadv.runner._driver as driver
    from lkadv.config import load_options
    from lkadv.store import Ledger

    phases["start-up"] = time.perf_counter() - t_start
    driver.plan_run = _timed(phases, "plan+data", driver.plan_run)
    driver.identify_models = _timed(phases, "models+checks", driver.identify_models)
    local.build_classifier = _timed(phases, "models+checks", local.build_classifier)
    local.probe_model = _timed(phases, "models+checks", local.probe_model)
    scoring: dict[str, float] = defaultdict(float)
    local.score = _timed(scoring, "s", local.score)
    local.score_extras = _timed(phases, "scoring", local.score_extras)
    attack = _timed(phases, "attack steps", attacking.attack_unit)
    local.attack_unit = attack
    Ledger.commit_unit = _timed(phases, "ledger", Ledger.commit_unit)  # type: ignore[method-assign]
    options = {"models": "all", "attacks": "pgd", "run_dir": run_dir}
    if limit is not None:
        options["limit"] = str(limit)
    t0 = time.perf_counter()
    driver.run(load_options(options))
    total = time.perf_counter() - t0
    # Adversarial examples are scored inside attack units (score -> score_extras, already
    # counted as scoring): take that time out of the attack steps.
    phases["attack steps"] -= scoring["s"]
    phases["other"] = total - sum(v for k, v in phases.items() if k != "start-up")
    return dict(phases)


def _child_torchattacks(limit: int | None, t_start: float) -> dict[str, float]:
    """The same plan attacked with a torchattacks PGD loop; seconds per phase."""
    phases: dict[str, float] = defaultdict(float)
    import torch
    import torchattacks

    from lkadv.config import load_options
    from lkadv.models import build_classifier
    from lkadv.plugins import PluginHost
    from lkadv.runner import plan_run

    phases["start-up"] = time.perf_counter() - t_start
    t0 = time.perf_counter()
    options = {"models": "all", "attacks": "pgd", "run_dir": tempfile.mkdtemp()}
    if limit is not None:
        options["limit"] = str(limit)
    plan = plan_run(load_options(options), PluginHost())
    pos = list(plan.subset.positions)
    x, y = plan.imageset.load(pos), plan.imageset.labels[pos]
    grid = sorted({c.threat.eps for c in plan.cells if c.threat.kind == "attack" and c.threat.eps is not None})
    config = dict(next(c.threat for c in plan.cells if c.threat.kind == "attack").config)
    phases["plan+data"] = time.perf_counter() - t0
    batch = plan.batch_size
    for spec in plan.models:
        t0 = time.perf_counter()
        clf, _ = build_classifier(spec)
        phases["models+checks"] += time.perf_counter() - t0
        for eps in [0.0, *grid]:
            correct = 0
            for i in range(0, len(x), batch):
                xb, yb = x[i : i + batch], y[i : i + batch]
                t0 = time.perf_counter()
                if eps > 0:
                    step = eps * float(config["rel_step"])
                    xb = torchattacks.PGD(clf, eps=eps, alpha=step, steps=int(config["steps"]), random_start=True)(
                        xb, yb
                    )
                t1 = time.perf_counter()
                with torch.no_grad():
                    correct += int((clf(xb).argmax(1) == yb).sum())
                phases["attack steps"] += t1 - t0
                phases["scoring"] += time.perf_counter() - t1
    return dict(phases)


def _spawn(variant: str, run_dir: Path, limit: int | None) -> tuple[float, dict[str, float]]:
    cmd = [sys.executable, __file__, "--child", variant, "--run-dir", str(run_dir)]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    env = {**os.environ, **VARIANTS[variant]}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{variant} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    phases = json.loads(proc.stdout.strip().splitlines()[-1])
    phases["start-up"] += max(0.0, wall - sum(phases.values()))  # interpreter start and process overhead
    return wall, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="samples (default: the dataset's 500)")
    parser.add_argument("--child", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--run-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        t_start = time.perf_counter()
        if args.child == "torchattacks":
            print(json.dumps(_child_torchattacks(args.limit, t_start)))
        else:
            print(json.dumps(_child_lkadv(args.run_dir, args.limit, t_start)))
        return

    walls: dict[str, list[float]] = defaultdict(list)
    phases: dict[str, list[dict[str, float]]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="lkadv-bench-") as tmp:
        for r in range(args.rounds):
            for variant in VARIANTS:
                wall, ph = _spawn(variant, Path(tmp) / f"{variant}-{r}", args.limit)
                walls[variant].append(wall)
                phases[variant].append(ph)
        again, _ = _spawn("lkadv", Path(tmp) / "lkadv-0", args.limit)
    base = statistics.median(walls["lkadv"])
    print(f"main job, {args.rounds} round(s), median wall seconds (each variant a fresh process and run dir)")
    print(f"{'variant':14s} {'wall':>7s} {'x lkadv':>8s}  " + " ".join(f"{p:>13s}" for p in PHASES))
    for variant in VARIANTS:
        wall = statistics.median(walls[variant])
        med = {p: statistics.median(ph.get(p, 0.0) for ph in phases[variant]) for p in PHASES}
        cells = " ".join(f"{med[p]:13.1f}" for p in PHASES)
        print(f"{variant:14s} {wall:7.1f} {wall / base:8.2f}  {cells}")
    print(f"second run of lkadv in the same run directory (computes nothing): {again:.1f} s")
    print(f"goal: the main job under 60 s on this machine: {'met' if base < 60 else 'NOT met'} ({base:.1f} s)")


if __name__ == "__main__":
    main()
