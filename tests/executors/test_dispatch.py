"""The driver's loop against a scripted in-process pool: deaths, hangs and duplicates, with a fake clock.

The pool runs each task on a real :class:`WorkerState` (the local executor's
runner) in this process, then plays its script: drop the worker after k
messages, stay silent until killed, or deliver a unit twice. Hang detection
sees only the fake clock, so no test here waits on time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lkadv.config import load_options
from lkadv.executors import LocalExecutor, Settings
from lkadv.executors._dispatch import drive
from lkadv.executors._tasks import Task
from lkadv.executors._worker import WorkerState
from lkadv.models import identify_models
from lkadv.planner import Plan
from lkadv.plugins import PluginHost
from lkadv.runner import plan_run
from tests import toy_plugin


class Recorder:
    """The driver's events, in memory: what was committed, failed and said about cells."""

    def __init__(self) -> None:
        self.commits: list[tuple[str, int, Any]] = []
        self.failures: dict[str, str] = {}
        self.shown: list[tuple[str, str]] = []

    def unit_finished(self, unit: Any, outcome: Any) -> None:
        self.commits.append((unit.cell.key, unit.shard, outcome))

    def cell_info(self, cell: Any, info: dict[str, Any]) -> None:
        pass

    def cell_failed(self, cell: Any, error: str) -> None:
        self.failures[cell.key] = error

    def stage_finished(self, unit: Any, stages_done: int, state: dict[str, Any]) -> None:
        pass

    def saved_progress(self, unit: Any) -> None:
        return None

    def unit_step(self, *args: Any) -> None:
        pass

    def stored_info(self, cell: Any) -> dict[str, Any]:
        return {}

    def network(self, model: Any) -> None:
        return None

    def worker_status(self, worker: str, text: str) -> None:
        self.shown.append((worker, text))

    def table(self) -> dict[tuple[str, int], list[int]]:
        return {(k, s): o.outcomes.pred.tolist() for k, s, o in self.commits}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ScriptedPool:
    """Workers in this process, each task played by a script.

    ``script[(worker, nth task)]`` or ``script[("model", name)]`` (every task of that model):
    ``("die", k)`` (lost after k units), ``("hang",)`` (silent until killed) or ``("twice",)``.
    """

    def __init__(self, plan: Plan, workers: int, script: dict[tuple[Any, Any], tuple[Any, ...]], clock: Clock) -> None:
        self.plan, self.workers, self.script, self.clock = plan, workers, script, clock
        self.inbox: list[tuple[int, tuple[Any, ...]]] = []
        self.tasks: dict[int, Task] = {}
        self.served: dict[int, int] = {}
        self.kills: list[int] = []
        self.states: dict[int, WorkerState] = {}

    def start(self) -> int:
        for worker in range(self.workers):
            self.replace(worker)
        return self.workers

    def name(self, worker: int) -> str:
        return f"fake{worker}"

    def submit(self, worker: int, task: Task) -> None:
        self.tasks[worker] = task

    def receive(self, timeout: float | None) -> list[tuple[int, tuple[Any, ...]]]:
        for worker, task in list(self.tasks.items()):
            nth = self.served.get(worker, 0)
            act = self.script.get((worker, nth), self.script.get(("model", task.model), ("ok",)))
            if act[0] == "hang":
                self.clock.now += timeout or 0.0  # silent: only the fake clock moves
                continue
            del self.tasks[worker]
            self.served[worker] = nth + 1
            sent: list[tuple[Any, ...]] = []
            self.states[worker].run_task(task, sent.append)
            units = [m for m in sent if m[0] == "unit"]
            if act[0] == "die":
                cut = [i for i, m in enumerate(sent) if m[0] == "unit"][act[1] - 1] + 1 if act[1] else 0
                self.inbox += [(worker, m) for m in sent[:cut]] + [(worker, ("dead", "fake SIGKILL"))]
                continue
            self.inbox += [(worker, m) for m in sent + (units if act[0] == "twice" else [])] + [(worker, ("done",))]
        out, self.inbox = self.inbox, []
        return out

    def kill(self, worker: int) -> None:
        self.kills.append(worker)
        self.tasks.pop(worker, None)
        self.served[worker] = self.served.get(worker, 0) + 1
        self.inbox.append((worker, ("dead", "killed as hung")))

    def replace(self, worker: int) -> None:
        self.states[worker] = WorkerState(self.plan, "cpu", name=f"fake{worker}")
        self.inbox.append((worker, ("ready",)))

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def plan() -> Plan:
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    options = load_options(
        {"models": "tag:toy", "dataset": "toy", "attacks": "pgd", "shard_size": "100", "limit": "200"},
        env={},
        config_file=None,
    )
    raw = plan_run(options, host)
    return raw.identified({name: ident.material for name, ident in identify_models(raw.models).items()})


def _pending(plan: Plan) -> set[tuple[str, int]]:
    return {(c.key, s) for c in plan.cells for s in range(plan.n_shards)}


@pytest.fixture(scope="module")
def local_table(plan: Plan) -> dict[tuple[str, int], list[int]]:
    events = Recorder()
    LocalExecutor("cpu").run(plan, _pending(plan), lambda cell, shard: None, events)  # type: ignore[arg-type]
    assert not events.failures
    return events.table()


def _drive(plan: Plan, script: dict[tuple[Any, Any], tuple[Any, ...]], **settings: Any) -> tuple[Recorder, Any]:
    events, clock = Recorder(), Clock()
    pool = ScriptedPool(plan, 2, script, clock)
    drive(plan, _pending(plan), lambda cell, shard: None, events, pool, Settings(clock=clock, **settings))  # type: ignore[arg-type]
    return events, pool


def test_a_death_after_two_units_recomputes_the_third_only(plan, local_table):
    events, _ = _drive(plan, {(0, 0): ("die", 2)})
    assert not events.failures
    assert len(events.commits) == len(local_table) == 16  # every unit committed exactly once
    assert events.table() == local_table
    retried = [(k, s) for k, s, o in events.commits if "attempts" in o.info]
    assert len(retried) == 1
    assert all(o.info.get("attempts", 1) == 1 for k, s, o in events.commits if (k, s) not in retried)


def test_a_unit_delivered_twice_is_committed_once(plan, local_table):
    events, _ = _drive(plan, {(0, 0): ("twice",), (1, 1): ("twice",)})
    assert len(events.commits) == 16 and events.table() == local_table


def test_a_silent_worker_is_killed_by_the_hang_limit_on_the_fake_clock(plan, local_table):
    events, pool = _drive(plan, {(1, 0): ("hang",)}, hang_seconds=10.0)
    assert pool.kills == [1]
    assert events.table() == local_table and not events.failures


def test_a_unit_that_kills_every_worker_fails_its_cell_and_what_builds_on_it(plan, local_table):
    first = plan.cells[0]  # toy-0's clean cell: every attempt at it dies before committing anything
    script: dict[tuple[Any, Any], tuple[Any, ...]] = {("model", first.model.name): ("die", 0)}
    events, _ = _drive(plan, script, max_attempts=3)
    toy0 = {c.key for c in plan.cells if c.model.name == first.model.name}
    assert set(events.failures) == toy0
    assert "tried 3 times" in events.failures[first.key] and "fake SIGKILL" in events.failures[first.key]
    assert {k for k, _, _ in events.commits} == {c.key for c in plan.cells} - toy0
    assert all(np.array_equal(p, local_table[ks]) for ks, p in events.table().items())


def test_the_display_hears_each_workers_model_cell_and_rate(plan):
    events, _ = _drive(plan, {})
    assert {w for w, _ in events.shown} == {"fake0", "fake1"}
    models = {c.model.name for c in plan.cells}
    for _, text in events.shown:
        model, _, rest = text.partition(" / ")
        assert model in models and rest.endswith("img/s"), text
