"""A worker's side of a task: the local executor's runner, fed one task at a time.

The worker holds one :class:`~lkadv.executors.LocalExecutor` for its life, so a
model is built once per worker and kept between tasks. It never writes the
ledger: everything the runner reports (a finished unit, a cell's facts, a
failure, a stage) becomes a message for the driver, sent as it happens so a
worker killed mid-task loses only the unit in flight. On CUDA out of memory
it halves the batch for that model, keeps the smaller batch, and runs the
task's unfinished units again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from lkadv.errors import LkadvError
from lkadv.executors._base import UnitOutcome
from lkadv.executors._local import LocalExecutor
from lkadv.executors._tasks import Task
from lkadv.models import identify_models
from lkadv.planner import Cell, Plan, Unit
from lkadv.specs import ModelSpec
from lkadv.types import Outcomes

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Emit", "WorkerState"]

Emit = Callable[[tuple[Any, ...]], None]
"""Sends one message to the driver."""


class _TaskEvents:
    """The runner's events inside a worker: each becomes a message; dependencies come with the task."""

    def __init__(self, state: WorkerState, task: Task, emit: Emit, batch_size: int) -> None:
        self.state, self.task, self.emit, self.batch_size = state, task, emit, batch_size
        self.finished: set[str] = set()
        self.failed: set[str] = set()

    def unit_finished(self, unit: Unit, outcome: UnitOutcome) -> None:
        info = dict(outcome.info)
        settings = {**info.get("settings", {}), "device": self.state.name}
        info["settings"] = settings
        if self.batch_size < self.state.plan.batch_size:
            info["oom_backoff"] = {"planned_batch_size": self.state.plan.batch_size, "batch_size": self.batch_size}
        self.finished.add(unit.cell.key)
        self.task.stored[unit.cell.key] = outcome.outcomes
        self.emit(("unit", unit.cell.key, unit.shard, UnitOutcome(outcome.outcomes, outcome.seconds, info)))

    def cell_info(self, cell: Cell, info: dict[str, Any]) -> None:
        if "device" in info:
            info = {**info, "device": self.state.name}
        self.state.info.setdefault(cell.key, {}).update(info)
        self.emit(("info", cell.key, info))

    def cell_failed(self, cell: Cell, error: str) -> None:
        self.failed.add(cell.key)
        self.emit(("failed", cell.key, error))

    def stage_finished(self, unit: Unit, stages_done: int, state: dict[str, Any]) -> None:
        self.task.progress[unit.cell.key] = (stages_done, state)
        self.emit(("stage", unit.cell.key, unit.shard, stages_done, state))

    def saved_progress(self, unit: Unit) -> tuple[int, dict[str, Any]] | None:
        return self.task.progress.get(unit.cell.key)

    def unit_step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        self.emit(("step", unit.cell.key, unit.shard, stage, stage_index, stages, done, total))

    def stored_info(self, cell: Cell) -> dict[str, Any]:
        return {**self.task.info.get(cell.key, {}), **self.state.info.get(cell.key, {})}

    def network(self, model: ModelSpec) -> nn.Module | None:
        return self.state.network(model)


class WorkerState:
    """What a worker keeps between tasks: the plan, the runner with its models, batch sizes.

    Args:
        plan: The driver's plan (cells keyed on the models the driver identified).
        device: The torch device this worker runs on.
        name: The device's name for records (``cuda:3`` when bound as ``cuda:0``).
    """

    def __init__(self, plan: Plan, device: str, name: str | None = None) -> None:
        self.plan = plan
        self.runner = LocalExecutor(device)
        self.runner.reraise = (torch.OutOfMemoryError,)
        self.name = name or str(self.runner.device)
        self.batch: dict[str, int] = {}
        self.info: dict[str, dict[str, Any]] = {}

    def network(self, model: ModelSpec) -> nn.Module:
        """Build ``model`` and check it is what the driver identified, so keys name what really ran.

        Raises:
            LkadvError: If the worker's build differs from the driver's (a factory that is not deterministic).
        """
        ident = identify_models([model])[model.name]
        if ident.error is not None or ident.network is None:
            raise LkadvError(ident.error or f"model {model.name!r} could not be built in the worker")
        expected = next(c.material["model"]["loaded"] for c in self.plan.cells if c.model.name == model.name)
        if dict(ident.material) != dict(expected):
            raise LkadvError(
                f"model {model.name!r} built in the worker on {self.name} has other weights or code than the "
                "driver identified; its factory must build the same model every time (seed its initialisation)"
            )
        return ident.network

    def run_task(self, task: Task, emit: Emit) -> None:
        """Run every unit of ``task``, sending each result through ``emit`` as it finishes.

        Raises:
            torch.OutOfMemoryError: Only when a batch of one sample does not fit.
        """
        remaining = list(task.keys)
        while remaining:
            batch = self.batch.get(task.model, self.plan.batch_size)
            plan = self.plan if batch == self.plan.batch_size else dataclasses.replace(self.plan, batch_size=batch)
            events = _TaskEvents(self, task, emit, batch)

            def lookup(cell: Cell, shard: int) -> Outcomes | None:
                return task.stored.get(cell.key) if shard == task.shard else None

            try:
                self.runner.run(plan, {(key, task.shard) for key in remaining}, lookup, events)
                return
            except torch.OutOfMemoryError:
                if batch == 1:
                    raise
                self.batch[task.model] = batch // 2
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            remaining = [k for k in remaining if k not in events.finished and k not in events.failed]
