"""Scale-out: the processes executor with N workers vs the local executor, and the driver's cost per unit.

Part 1, the main job (``lkadv run --models all --attacks pgd``, on ``--limit``
samples in shards of ``--shard-size``): the local executor, then the processes
executor on ``--devices`` (default ``cpu,cpu``; ``auto`` on a GPU machine is
every GPU), each in a fresh run directory, in this process, alternating for
``--rounds``. Prints wall time, images per second (samples x cells / wall)
and the ratio processes / local. Worker start-up (spawn, imports, each worker
building the models it runs) is inside the processes time, as a user pays it.

Worker start-up (spawn, imports, the plan unpickled) is then timed on its own.

Part 2, scheduling overhead: the driver loop (tasks, messages, the ledger
commit of every unit) against a pool whose workers answer at once with
outcomes computed beforehand, so only the driver's own work is timed, in
milliseconds per unit; beside it, the local executor's compute time per unit
of the same job for scale.

    python bench/executors_scale.py [--limit 60] [--shard-size 30] [--devices cpu,cpu] [--rounds 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lkadv.config import load_options
from lkadv.executors import Settings
from lkadv.executors._dispatch import drive
from lkadv.executors._tasks import Task
from lkadv.plugins import PluginHost
from lkadv.runner import RunResult, run
from lkadv.store import Ledger


def _job(args: argparse.Namespace, run_dir: Path, executor: str) -> RunResult:
    settings = {"models": "all", "attacks": "pgd", "limit": str(args.limit), "shard_size": str(args.shard_size)}
    options = load_options(
        {**settings, "executor": executor, "devices": args.devices, "run_dir": str(run_dir)}, env={}, config_file=None
    )
    return run(options, host=PluginHost(entry_points=False), progress=False)


class _Instant:
    """Workers that answer each task at once with outcomes a real run stored."""

    def __init__(self, workers: int, stored: dict[tuple[str, int], Any]) -> None:
        self.workers, self.stored = workers, stored
        self.inbox: list[tuple[int, tuple[Any, ...]]] = []

    def start(self) -> int:
        self.inbox = [(w, ("ready",)) for w in range(self.workers)]
        return self.workers

    def name(self, worker: int) -> str:
        return f"instant{worker}"

    def submit(self, worker: int, task: Task) -> None:
        from lkadv.executors import UnitOutcome

        for key in task.keys:
            self.inbox.append((worker, ("unit", key, task.shard, UnitOutcome(self.stored[(key, task.shard)], 0.0))))
        self.inbox.append((worker, ("done",)))

    def receive(self, timeout: float | None) -> list[tuple[int, tuple[Any, ...]]]:
        out, self.inbox = self.inbox, []
        return out

    def kill(self, worker: int) -> None:
        pass

    def replace(self, worker: int) -> None:
        pass

    def close(self) -> None:
        pass


def _overhead(result: RunResult, run_dir: Path) -> float:
    """Milliseconds of driver work per unit: the real events and ledger, instant workers."""
    from lkadv.runner._driver import _cell_row, _Events

    plan = result.plan
    stored = {}
    with Ledger(result.run_dir) as ledger:
        for cell in plan.cells:
            for shard in range(plan.n_shards):
                stored[(cell.key, shard)] = ledger.outcomes(cell.key, *plan.shard_bounds(shard))
    pending = set(stored)
    with Ledger(run_dir, create=True, lock=True) as ledger:
        run_id = ledger.start_run(plan.describe(), {})
        ledger.add_subset(plan.subset.digest, plan.subset.ids, plan.subset.rule, plan.subset.total)
        ledger.add_cells(run_id, [_cell_row(c, plan) for c in plan.cells])
        events = _Events(ledger, run_id, PluginHost(entry_points=False), None, {})
        t0 = time.perf_counter()
        drive(plan, pending, lambda c, s: None, events, _Instant(2, stored), Settings())
        seconds = time.perf_counter() - t0
    return 1000 * seconds / len(pending)


def _startup(result: RunResult, devices: str) -> float:
    """Seconds from spawning the workers to every one of them ready (imports, plan unpickled)."""
    from lkadv.executors import parse_devices
    from lkadv.executors._processes import ProcessPool

    pool = ProcessPool(parse_devices(devices), result.plan)
    t0 = time.perf_counter()
    ready = 0
    count = pool.start()
    while ready < count:
        ready += sum(message[0] == "ready" for _, message in pool.receive(None))
    seconds = time.perf_counter() - t0
    pool.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=60)
    parser.add_argument("--shard-size", type=int, default=30)
    parser.add_argument("--devices", default="cpu,cpu")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"local": [], "processes": []}
    with tempfile.TemporaryDirectory() as tmp:
        last: dict[str, RunResult] = {}
        for r in range(args.rounds):
            for executor in walls:
                t0 = time.perf_counter()
                last[executor] = _job(args, Path(tmp) / f"{executor}{r}", executor)
                walls[executor].append(time.perf_counter() - t0)
        images = len(last["local"].plan.subset) * len(last["local"].plan.cells)
        units = last["local"].computed_units
        cells = len(last["local"].plan.cells)
        print(f"main job: {args.limit} samples, {cells} cells, {units} units; devices {args.devices}")
        for executor, values in walls.items():
            wall = statistics.median(values)
            print(f"  {executor:<10} {wall:7.1f} s  {images / wall:8.1f} img/s")
        ratio = statistics.median(walls["local"]) / statistics.median(walls["processes"])
        print(f"  speed-up processes / local: {ratio:.2f}x")
        startup = _startup(last["local"], args.devices)
        print(f"  of which worker start-up (spawn to ready, in parallel): {startup:.1f} s")
        per_unit = 1000 * statistics.median(walls["local"]) / units
        overhead = _overhead(last["local"], Path(tmp) / "overhead")
        print(f"scheduling overhead: {overhead:.2f} ms per unit (driver loop + commit)")
        print(f"  beside: {per_unit:.0f} ms per unit of local wall time on this job")


if __name__ == "__main__":
    main()
