"""lkadv's AutoAttack cells against direct pyautoattack runs: wall-time ratio, and equal robust accuracy.

lkadv side: a whole ``lkadv.run`` into a fresh run directory (planning, data,
model build, clean cell, the model's sanity probe, the AutoAttack cells, ledger
commits). Direct side: read the same Fashion-MNIST samples, build the same
model, and ``pyautoattack.AutoAttack(...).run_standard_evaluation`` with the
same batch size and seed, once per eps (what a user of the library does for a
robustness curve). Both sides start from nothing and end with robust
accuracies. The two alternate, round by round; medians are compared. At one eps
the robust accuracies must be equal (the bench says so if not).

    python bench/autoattack_speed.py [--model fm-resnet] [--n 32] [--eps 4/255] [--version standard] [--rounds 2]
    python bench/autoattack_speed.py --eps 2/255,4/255,8/255   # a robustness curve

With several eps lkadv attacks at each eps only the samples still robust at the
next smaller one (a sample broken inside a smaller ball is broken inside the
larger one); the direct runs start from scratch at every eps. The robust
accuracies can then differ: a direct run at a larger eps may miss a sample it
broke at a smaller one (AutoAttack is not monotone in eps); lkadv counts it as
broken, with the smaller eps' example as the witness.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

from lkadv.config import load_options, parse_eps
from lkadv.datasets._fashion_mnist import load_fashion_mnist
from lkadv.models import build_classifier
from lkadv.planner import Unit
from lkadv.plugins import PluginHost
from lkadv.runner import plan_run, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="fm-resnet")
    parser.add_argument("--n", type=int, default=32, help="samples (one batch)")
    parser.add_argument("--eps", default="4/255")
    parser.add_argument("--version", default="standard")
    parser.add_argument("--attacks", default=None, help="custom version: e.g. apgd-ce+apgd-t+fab-t+square")
    parser.add_argument("--iterations", type=int, default=None, help="custom version: APGD/FAB iterations")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("auto-attack").setLevel(logging.ERROR)

    import pyautoattack

    eps_list = parse_eps(args.eps, "--eps")
    params: dict[str, object] = {"version": args.version}
    if args.attacks:
        params["attacks"] = args.attacks
    if args.iterations:
        params["iterations"] = args.iterations
    host = PluginHost(entry_points=False)
    base = dict(
        models=args.model,
        attacks="autoattack",
        eps=",".join(str(e) for e in eps_list),
        limit=args.n,
        batch_size=args.n,
        attack_params={"autoattack": params},
        device="cpu",
    )
    plan = plan_run(load_options({**base, "run_dir": "unused"}, env={}, config_file=None), host)
    positions = list(plan.subset.positions)
    cells = sorted((c for c in plan.cells if c.threat.kind == "attack"), key=lambda c: c.threat.eps or 0)

    def lkadv_side() -> dict[float, int]:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(load_options({**base, "run_dir": Path(tmp)}, env={}, config_file=None), host=host)
        return {c.eps: c.accuracy.k for c in result.summary.cells if c.kind == "attack" and c.accuracy}

    def direct_side() -> dict[float, int]:
        # From nothing to robust accuracies, like the lkadv side: read the samples, build the model, attack.
        images, labels = load_fashion_mnist("test")
        x = torch.from_numpy(images[positions]).float().div(255)[:, None]
        y = torch.from_numpy(labels[positions]).long()
        clf, _ = build_classifier(host.registries.models.get(args.model))
        out = {}
        for cell in cells:
            eps = float(cell.threat.eps or 0)
            adversary = pyautoattack.AutoAttack(
                clf,
                norm="Linf",
                eps=eps,
                version=args.version,
                attacks=args.attacks.split("+") if args.attacks else None,
                device="cpu",
                seed=Unit(cell, 0, 0, args.n).seed,
            )
            if args.iterations:
                for apgd in (adversary.apgd, adversary.apgd_targeted):
                    apgd.n_iter = apgd.n_iter_orig = args.iterations
                    apgd.n_iter_2 = max(int(0.22 * args.iterations), 1)
                    apgd.n_iter_min = max(int(0.06 * args.iterations), 1)
                    apgd.size_decr = max(int(0.03 * args.iterations), 1)
                adversary.fab.n_iter = args.iterations
            x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=args.n)
            with torch.no_grad():
                out[eps] = int((clf(x_adv).argmax(1) == y).sum())
        return out

    times: dict[str, list[float]] = {"lkadv": [], "direct": []}
    robust: dict[str, dict[float, int]] = {}
    for _ in range(args.rounds):
        for side, fn in (("direct", direct_side), ("lkadv", lkadv_side)):
            t0 = time.perf_counter()
            robust[side] = fn()
            times[side].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{args.model}, {args.n} samples, AutoAttack {args.version} {params}, eps {args.eps}, {args.rounds} rounds")
    for eps in sorted(robust["direct"]):
        same = "equal" if robust["direct"][eps] == robust["lkadv"].get(eps) else "DIFFERENT"
        theirs, ours = robust["direct"][eps], robust["lkadv"].get(eps)
        print(f"  eps {eps:.5f}: robust direct {theirs}/{args.n}, lkadv {ours}/{args.n} ({same})")
    print(f"  direct pyautoattack {med['direct']:.1f}s, lkadv run {med['lkadv']:.1f}s")
    print(f"lkadv AutoAttack over direct pyautoattack (speed ratio): {med['direct'] / med['lkadv']:.2f}")


if __name__ == "__main__":
    main()
