"""What a worker is handed: every pending unit of one model on one shard.

A task keeps a model's units of a shard together because its attack cells
build on its clean cell and on the same attack at the next smaller eps of that
shard; inside one task those dependencies never cross a process. Tasks are
handed out longest first, and a worker that already holds a model gets that
model's next task before any other (model affinity).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lkadv.planner import Cell, Plan

__all__ = ["Task", "dependents", "make_tasks", "pick_task", "unit_cost"]


@dataclass
class Task:
    """Pending units of one model on one shard, and what the worker needs besides the plan.

    Attributes:
        model: The model's name.
        shard: The shard.
        keys: Pending cell keys, in plan order.
        cost: Estimated work (model forward/backward passes times samples).
        stored: Outcomes already known for this model and shard, by cell key.
        info: What the ledger records about the model's cells, by cell key.
        progress: Saved stages of unfinished staged units, by cell key.
        attempt: How many times this task was handed out before (0 the first time).
    """

    model: str
    shard: int
    keys: list[str]
    cost: float
    stored: dict[str, Any] = field(default_factory=dict)
    info: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    attempt: int = 0


def unit_cost(cell: Cell, n_samples: int) -> float:
    """Passes through the model an ``n_samples`` unit of ``cell`` needs, at most (an estimate).

    An attack costs one forward and backward per step and restart; clean and
    corrupted scoring cost one forward.
    """
    if cell.threat.kind != "attack":
        return float(n_samples)
    config = dict(cell.threat.config)
    steps = config.get("steps") or config.get("n_iter") or 1
    restarts = config.get("restarts") or config.get("n_restarts") or 1
    try:
        passes = 2.0 * float(steps) * float(restarts) + 1.0
    except (TypeError, ValueError):  # a plugin's own notion of steps: count it as one pass
        passes = 3.0
    return passes * n_samples


def make_tasks(plan: Plan, pending: Iterable[tuple[str, int]]) -> list[Task]:
    """Group pending units into tasks (one per model and shard), longest first.

    Ties keep plan order (model, then shard), so the schedule is reproducible.
    """
    wanted = set(pending)
    order = {cell.key: i for i, cell in enumerate(plan.cells)}
    by_task: dict[tuple[str, int], list[Cell]] = {}
    for cell in plan.cells:
        for shard in range(plan.n_shards):
            if (cell.key, shard) in wanted:
                by_task.setdefault((cell.model.name, shard), []).append(cell)
    models = {m.name: i for i, m in enumerate(plan.models)}
    tasks = []
    for (model, shard), cells in by_task.items():
        start, stop = plan.shard_bounds(shard)
        cells.sort(key=lambda c: order[c.key])
        cost = sum(unit_cost(c, stop - start) for c in cells)
        tasks.append(Task(model, shard, [c.key for c in cells], cost))
    tasks.sort(key=lambda t: (-t.cost, models.get(t.model, 0), t.shard))
    return tasks


def pick_task(queue: Sequence[Task], held: str | None) -> int | None:
    """Index in ``queue`` (longest first) of the task for a worker holding model ``held``.

    The longest task of the held model if there is one (no rebuild, no reload);
    otherwise the longest task of all. None when the queue is empty.
    """
    if not queue:
        return None
    if held is not None:
        for i, task in enumerate(queue):
            if task.model == held:
                return i
    return 0


def dependents(cells: Sequence[Cell], failed: Cell) -> list[Cell]:
    """Cells of the same model that build on ``failed`` and cannot run without it.

    Every attack cell builds on its model's clean cell (only clean-correct
    samples are attacked), and each eps of an attack family on the next
    smaller one (samples already fooled stay fooled).
    """
    same = [c for c in cells if c.model.name == failed.model.name and c.key != failed.key]
    if failed.threat.kind == "clean":
        return [c for c in same if c.threat.kind == "attack"]
    if failed.threat.kind != "attack":
        return []
    eps = failed.threat.eps or 0.0
    return [
        c
        for c in same
        if c.threat.kind == "attack" and c.threat.family == failed.threat.family and (c.threat.eps or 0.0) > eps
    ]
