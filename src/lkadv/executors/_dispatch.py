"""The driver's loop over a pool of workers: hand out tasks, commit results, replace the dead.

The pool (spawned processes, Ray actors) only moves tasks and messages; every
decision is made here, in the driver: which task a worker gets (model
affinity, longest first), committing each unit exactly once (a second result
of a retried unit is ignored), re-queueing a dead or hung worker's unfinished
units, and failing a cell whose unit killed its worker ``max_attempts`` times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lkadv.errors import LkadvError
from lkadv.executors._base import Events, Lookup, UnitOutcome
from lkadv.executors._tasks import Task, dependents, make_tasks, pick_task
from lkadv.planner import Cell, Plan, Unit

__all__ = ["Pool", "Settings", "drive"]


class Pool(Protocol):
    """Workers the driver talks to by index."""

    def start(self) -> int:
        """Start the workers; their number."""
        ...

    def name(self, worker: int) -> str:
        """The device a worker runs on (for messages)."""
        ...

    def submit(self, worker: int, task: Task) -> None:
        """Hand a task to an idle worker."""
        ...

    def receive(self, timeout: float | None) -> list[tuple[int, tuple[Any, ...]]]:
        """Messages from workers, waiting up to ``timeout`` seconds for the first; ``("dead", why)`` for a death."""
        ...

    def kill(self, worker: int) -> None:
        """Kill a hung worker (it is then reported dead)."""
        ...

    def replace(self, worker: int) -> None:
        """Start a fresh worker in a dead one's place (it reports ``("ready",)``)."""
        ...

    def close(self) -> None:
        """Stop every worker."""
        ...


@dataclass(frozen=True)
class Settings:
    """How hard the driver tries.

    Attributes:
        max_attempts: Times a unit may take its worker down before its cell is failed.
        hang_seconds: A busy worker silent this long is killed and its task re-queued.
        clock: Time source for hang detection (tests pass a fake one).
    """

    max_attempts: int = 3
    hang_seconds: float = 1800.0
    clock: Callable[[], float] = field(default=time.monotonic)


class _Driver:
    """The state of one run's loop: the queue, who holds what, attempts, what is still pending."""

    def __init__(
        self, plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events, pool: Pool, settings: Settings
    ) -> None:
        self.plan, self.lookup, self.events, self.pool, self.settings = plan, lookup, events, pool, settings
        self.cells = {c.key: c for c in plan.cells}
        self.left = set(pending)
        self.queue = make_tasks(plan, pending)
        self.attempts: dict[tuple[str, int], int] = {}
        self.busy: dict[int, Task] = {}
        self.held: dict[int, str | None] = {}
        self.idle: set[int] = set()
        self.seen: dict[int, float] = {}
        self.failed: set[str] = set()
        self.received: dict[tuple[str, int], Any] = {}
        self.stillborn = 0
        self.began: dict[int, float] = {}
        self.samples: dict[int, int] = {}

    def unit(self, cell: Cell, shard: int) -> Unit:
        start, stop = self.plan.shard_bounds(shard)
        return Unit(cell, shard, start, stop)

    def prepare(self, task: Task) -> None:
        """Drop what is no longer pending; attach what the worker cannot read from the ledger itself."""
        task.keys = [k for k in task.keys if (k, task.shard) in self.left]
        for cell in self.plan.cells:
            if cell.model.name != task.model:
                continue
            known = self.received.get((cell.key, task.shard))
            if known is None:
                known = self.lookup(cell, task.shard)
            if known is not None:
                task.stored[cell.key] = known
            task.info[cell.key] = self.events.stored_info(cell)
        for key in task.keys:
            saved = self.events.saved_progress(self.unit(self.cells[key], task.shard))
            if saved is not None:
                task.progress[key] = saved

    def assign(self) -> None:
        for worker in sorted(self.idle):
            while True:
                index = pick_task(self.queue, self.held.get(worker))
                if index is None:
                    return
                task = self.queue.pop(index)
                self.prepare(task)
                if task.keys:
                    break
            self.pool.submit(worker, task)
            self.idle.discard(worker)
            self.busy[worker], self.held[worker] = task, task.model
            self.seen[worker] = self.settings.clock()
            self.began.setdefault(worker, self.seen[worker])
            self.show(worker, self.cells[task.keys[0]].threat.label)

    def fail(self, cell: Cell, error: str) -> None:
        """Fail a cell and the cells that build on it; none of their units stays pending."""
        for target, why in [(cell, error)] + [
            (dep, f"not run: it builds on {cell.threat.label}, which failed")
            for dep in dependents(self.plan.cells, cell)
        ]:
            if target.key in self.failed:
                continue
            self.failed.add(target.key)
            self.left -= {(target.key, s) for s in range(self.plan.n_shards)}
            self.events.cell_failed(target, why)

    def handle(self, worker: int, message: tuple[Any, ...]) -> None:
        """Act on one message from a worker."""
        kind = message[0]
        self.seen[worker] = self.settings.clock()
        if kind == "ready":
            self.idle.add(worker)
            self.held[worker] = None
            self.stillborn = 0
        elif kind == "unit":
            if self.commit(message[1], message[2], message[3]):
                self.samples[worker] = self.samples.get(worker, 0) + len(message[3].outcomes)
        elif kind == "info":
            self.events.cell_info(self.cells[message[1]], message[2])
        elif kind == "failed":
            self.fail(self.cells[message[1]], message[2])
        elif kind == "stage":
            self.events.stage_finished(self.unit(self.cells[message[1]], message[2]), message[3], message[4])
        elif kind == "step":
            key, shard, *rest = message[1:]
            self.events.unit_step(self.unit(self.cells[key], shard), *rest)
            self.show(worker, self.cells[key].threat.label)
        elif kind == "done":
            self.finished(worker)
        elif kind == "error":
            self.lost(worker, f"its task raised: {message[1]}", replace=False)
        elif kind == "dead":
            self.lost(worker, str(message[1]), replace=True)

    def show(self, worker: int, label: str) -> None:
        """Tell the display what a worker is doing (device, model, cell) and its rate so far."""
        shown = getattr(self.events, "worker_status", None)  # events without a display lack it
        task = self.busy.get(worker)
        if shown is None or task is None:
            return
        elapsed = self.settings.clock() - self.began.get(worker, 0.0)
        rate = self.samples.get(worker, 0) / elapsed if elapsed > 0 else 0.0
        shown(self.pool.name(worker), f"{task.model} / {label}, shard {task.shard + 1}: {rate:.1f} img/s")

    def commit(self, key: str, shard: int, outcome: UnitOutcome) -> bool:
        """Commit a unit's result unless it is already committed; whether it was."""
        # Exactly once: a unit recomputed after its first result arrived (a retry) is not committed again.
        if (key, shard) not in self.left:
            return False
        lost = self.attempts.get((key, shard), 0)
        if lost:  # the record says this unit was started again after its worker was lost
            outcome.info["attempts"] = lost + 1
        self.events.unit_finished(self.unit(self.cells[key], shard), outcome)
        self.left.discard((key, shard))
        self.received[(key, shard)] = outcome.outcomes
        return True

    def finished(self, worker: int) -> None:
        task = self.busy.pop(worker)
        self.idle.add(worker)
        for key in task.keys:
            if (key, task.shard) in self.left:  # the runner skipped it without a word: never silently lost
                self.fail(self.cells[key], f"the worker on {self.pool.name(worker)} returned no result for it")
        for cell in self.plan.cells:  # a finished task's outcomes are in the ledger: stop holding them
            if cell.model.name == task.model:
                self.received.pop((cell.key, task.shard), None)

    def lost(self, worker: int, why: str, *, replace: bool) -> None:
        """A worker died (or its task raised): count an attempt against its unit in flight, re-queue the rest."""
        task = self.busy.pop(worker, None)
        self.held[worker] = None
        if replace:
            self.idle.discard(worker)
        else:
            self.idle.add(worker)
        if task is None and replace:
            self.stillborn += 1
            if self.stillborn >= self.settings.max_attempts * max(1, len(self.held)):
                raise LkadvError(f"workers keep dying before taking any work; the last one: {why}")
        elif task is not None:
            remaining = [k for k in task.keys if (k, task.shard) in self.left]
            if remaining:
                first = (remaining[0], task.shard)
                self.attempts[first] = self.attempts.get(first, 0) + 1
                if self.attempts[first] >= self.settings.max_attempts:
                    cell = self.cells[remaining[0]]
                    self.fail(
                        cell,
                        f"shard {task.shard} was tried {self.attempts[first]} times and each time its worker "
                        f"on {self.pool.name(worker)} was lost: {why}",
                    )
                task.attempt += 1
                self.queue.insert(0, task)
        if replace:
            self.pool.replace(worker)

    def hung(self) -> None:
        now = self.settings.clock()
        for worker in list(self.busy):
            if now - self.seen.get(worker, now) > self.settings.hang_seconds:
                self.seen[worker] = now
                self.pool.kill(worker)


def drive(
    plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events, pool: Pool, settings: Settings
) -> None:
    """Run ``pending`` on ``pool`` until every unit is committed or its cell failed.

    Raises:
        LkadvError: If workers die before taking any work, again and again.
    """
    driver = _Driver(plan, pending, lookup, events, pool, settings)
    count = pool.start()
    driver.held = dict.fromkeys(range(count))
    poll = min(settings.hang_seconds, 5.0)
    try:
        while driver.left or driver.busy:
            driver.assign()
            if not driver.busy and not driver.queue:
                break  # nothing is running and nothing is queued: every pending unit is committed or failed
            for worker, message in pool.receive(poll):
                driver.handle(worker, message)
            driver.hung()
    finally:
        pool.close()
