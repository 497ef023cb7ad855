"""The driver: plans a run, prepares its data, records it, hands pending units to an executor, commits results.

Everything that can be wrong with the options is found while planning, before
the run directory is touched. From then on every finished unit is committed
before the next starts, so an interrupted run loses only the units in flight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console

from lkadv.config import RunOptions
from lkadv.errors import ConfigError
from lkadv.executors import Executor, Lookup, UnitOutcome, make_executor
from lkadv.metrics import Summary, summarize
from lkadv.models import Identified, identify_models
from lkadv.planner import Cell, Plan, Unit
from lkadv.plugins import PluginHost
from lkadv.runner._data import plan_run
from lkadv.specs import ModelSpec
from lkadv.store import LEDGER_FILE, SAMPLE_COLUMNS, Ledger, provenance, sample_rows
from lkadv.types import Outcomes

if TYPE_CHECKING:
    from torch import nn

__all__ = ["DryRun", "Progress", "RunResult", "dry_run", "run"]


class Progress(Protocol):
    """Something that shows a run's progress (the CLI's live table, plain lines...)."""

    def start(self, plan: Plan, pending: set[tuple[str, int]], known: dict[str, tuple[int, int]] | None = None) -> None:
        """The run starts with ``pending`` units to compute; ``known`` holds stored ``(correct, n)`` by cell."""
        ...

    def step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        """Progress inside a running unit (a stage's samples)."""
        ...

    def advance(self, unit: Unit, outcome: UnitOutcome) -> None:
        """A unit was committed."""
        ...

    def failed(self, cell: Cell, error: str) -> None:
        """A cell failed."""
        ...

    def stop(self) -> None:
        """The run ended (normally or not)."""
        ...


@dataclass
class RunResult:
    """What a run did.

    Attributes:
        run_id: Its id in the ledger.
        run_dir: The run directory.
        plan: The plan.
        summary: Results of every cell of the plan.
        computed_units: Units computed by this run.
        reused_units: Units already in the ledger.
        seconds: Wall time of the run (planning included).
        failures: Error message by failed cell key.
    """

    run_id: int
    run_dir: Path
    plan: Plan
    summary: Summary
    computed_units: int
    reused_units: int
    seconds: float
    failures: dict[str, str] = field(default_factory=dict)

    def to_pandas(self, *, per_sample: bool = False) -> Any:
        """The results as a pandas DataFrame (pandas is optional: ``pip install pandas``).

        Args:
            per_sample: One row per (cell, sample) (:data:`lkadv.store.SAMPLE_COLUMNS`)
                instead of one row per cell (accuracy, its 95% interval, status).

        Raises:
            ConfigError: If pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ConfigError("RunResult.to_pandas needs pandas: pip install pandas") from exc
        if per_sample:
            with Ledger(self.run_dir) as ledger:
                return pd.DataFrame(list(sample_rows(ledger, self.run_id)), columns=list(SAMPLE_COLUMNS))
        rows = []
        for c in self.summary.cells:
            acc = c.accuracy
            rows.append(
                {
                    "model": c.model,
                    "family": c.family,
                    "threat": c.label,
                    "kind": c.kind,
                    "eps": c.eps,
                    "severity": c.severity,
                    "n": acc.n if acc else 0,
                    "correct": acc.k if acc else 0,
                    "accuracy": acc.value if acc else None,
                    "ci_low": acc.low if acc else None,
                    "ci_high": acc.high if acc else None,
                    "status": c.status,
                    "threat_id": c.threat_id,
                    "cell": c.key,
                }
            )
        return pd.DataFrame(rows)


class _Events:
    def __init__(
        self,
        ledger: Ledger,
        run_id: int,
        host: PluginHost,
        progress: Progress | None,
        identities: dict[str, Identified],
    ) -> None:
        self.ledger, self.run_id, self.host, self.progress = ledger, run_id, host, progress
        self.identities = identities
        self.failures: dict[str, str] = {}
        self.computed = 0

    def network(self, model: ModelSpec) -> nn.Module | None:
        ident = self.identities.get(model.name)
        if ident is None:
            return None
        network, ident.network = ident.network, None  # handed over once
        return network

    def unit_finished(self, unit: Unit, outcome: UnitOutcome) -> None:
        self.ledger.commit_unit(
            unit.cell.key,
            unit.shard,
            unit.start,
            outcome.outcomes,
            seconds=outcome.seconds,
            run_id=self.run_id,
            info=outcome.info,
        )
        self.computed += 1
        if self.progress is not None:
            self.progress.advance(unit, outcome)
        self.host.notify("lkadv_unit_finished", unit=unit, outcome=outcome)

    def cell_info(self, cell: Cell, info: dict[str, Any]) -> None:
        self.ledger.set_cell_info(cell.key, info)

    def stored_info(self, cell: Cell) -> dict[str, Any]:
        return self.ledger.cell_info(cell.key)

    def unit_step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        step = getattr(self.progress, "step", None)  # displays written before steps existed lack it
        if step is not None:
            step(unit, stage, stage_index, stages, done, total)

    def worker_status(self, worker: str, text: str) -> None:
        # A multi-worker executor's line per worker; displays written before workers existed lack it.
        show = getattr(self.progress, "worker", None)
        if show is not None:
            show(worker, text)

    def stage_finished(self, unit: Unit, stages_done: int, state: dict[str, Any]) -> None:
        self.ledger.save_progress(unit.cell.key, unit.shard, stages_done, state)

    def saved_progress(self, unit: Unit) -> tuple[int, dict[str, Any]] | None:
        return self.ledger.progress(unit.cell.key, unit.shard)

    def cell_failed(self, cell: Cell, error: str) -> None:
        self.failures[cell.key] = error
        self.ledger.set_cell_info(cell.key, {"error": error})
        if self.progress is not None:
            self.progress.failed(cell, error)


def _known(ledger: Ledger, plan: Plan, done: set[tuple[str, int]]) -> dict[str, tuple[int, int]]:
    """Stored ``(correct, n)`` of every cell with finished units, so a resumed display shows values."""
    return ledger.correct_counts({key for key, _ in done})


def _cell_row(cell: Cell, plan: Plan) -> dict[str, Any]:
    return {
        "key": cell.key,
        "model": cell.model.name,
        "family": cell.model.family,
        "dataset": plan.dataset.name,
        "threat_kind": cell.threat.kind,
        "threat_name": cell.threat.name,
        "threat_id": cell.threat.id,
        "threat_label": cell.threat.label,
        "threat": cell.threat.as_dict(),
        "spec": cell.material,
        "subset": plan.subset.digest,
        "n_samples": len(plan.subset),
        "n_units": plan.n_shards,
        "seed": cell.seed,
    }


def _identified_plan(options: RunOptions, host: PluginHost) -> tuple[Plan, dict[str, Identified]]:
    """Plan (no I/O), then the data step, then each model built once and keyed on what loaded."""
    plan = plan_run(options, host)
    identities = identify_models(plan.models)
    return plan.identified({name: ident.material for name, ident in identities.items()}), identities


@dataclass
class DryRun:
    """What a run would do, found without writing anything.

    Attributes:
        plan: The plan, keyed on the models as they load now.
        done: ``(cell_key, shard)`` units the run directory already holds.
        failures: Why a model could not be built, by model name.
    """

    plan: Plan
    done: set[tuple[str, int]]
    failures: dict[str, str]

    def rows(self) -> list[tuple[str, str, int, int]]:
        """``(model, threat, units reused, units)`` per cell, in plan order."""
        n = self.plan.n_shards
        return [
            (c.model.name, c.threat.label, sum((c.key, s) in self.done for s in range(n)), n) for c in self.plan.cells
        ]


def dry_run(options: RunOptions, *, host: PluginHost | None = None) -> DryRun:
    """Plan a run and look up what its run directory already holds; writes nothing.

    Raises:
        LkadvError: On bad options or data, as :func:`run` would.
    """
    host = host or PluginHost(strict=options.strict_plugins)
    plan, identities = _identified_plan(options, host)
    make_executor(host, options)  # the devices are checked as the run would check them
    done: set[tuple[str, int]] = set()
    if (options.run_dir / LEDGER_FILE).is_file():
        with Ledger(options.run_dir) as ledger:
            done = ledger.done_units({c.key for c in plan.cells})
    failures = {name: ident.error for name, ident in identities.items() if ident.error is not None}
    return DryRun(plan, done, failures)


def _interactive() -> bool:
    """In a notebook, or with a terminal on stderr: show progress unless told not to."""
    import sys

    console = Console(stderr=True)
    return bool(console.is_jupyter or sys.stderr.isatty())


def run(
    options: RunOptions | None = None,
    *,
    host: PluginHost | None = None,
    progress: Progress | bool | None = None,
    **settings: Any,
) -> RunResult:
    """Run (or resume) the benchmark matrix the options describe.

    Finished units found in the run directory's ledger are reused, whichever
    run computed them; only the rest is computed.

    ``lkadv.run(models="fm-*", attacks="pgd", eps="2/255,8/255", run_dir="runs")``
    is ``lkadv.run(RunOptions(...))``: settings take what the command line takes.

    Args:
        options: Run options (default: built from ``settings``).
        host: Loaded plugins (default: load them now, strict as the options say).
        progress: Progress display; None shows rich's live table in a notebook or a
            terminal (nothing elsewhere), False shows nothing.
        **settings: :class:`~lkadv.config.RunOptions` fields, when ``options`` is not given.

    Returns:
        What was run and its summary.

    Raises:
        LkadvError: On bad options or data (before anything is written), or a store failure.
    """
    t0 = time.perf_counter()
    if options is None:
        options = RunOptions(**settings)
    elif settings:
        raise ConfigError(f"give either options or settings ({', '.join(settings)}), not both")
    if progress is None and _interactive():
        from lkadv.reporters import make_progress

        progress = make_progress(Console(stderr=True), False)
    shown = progress if not isinstance(progress, bool) else None
    host = host or PluginHost(strict=options.strict_plugins)
    plan, identities = _identified_plan(options, host)
    executor: Executor = make_executor(host, options)
    device = getattr(executor, "device", options.device)
    plugins = {name: f"{p.version} ({p.status})" for name, p in host.plugins.items()}
    with Ledger(options.run_dir, create=True, lock=True) as ledger:
        run_id = ledger.start_run(plan.describe(), provenance(device, options.precision, options.seed, plugins))
        _record_plan(ledger, run_id, plan)
        done = ledger.done_units({c.key for c in plan.cells})
        events = _Events(ledger, run_id, host, shown, identities)
        pending = _pending(plan, done, events, identities)
        lookup = _lookup(ledger, plan, done)
        host.notify("lkadv_run_started", plan=plan)
        if shown is not None:
            shown.start(plan, pending, _known(ledger, plan, done))
        _execute(executor, plan, pending, lookup, events, (ledger, run_id, shown))
        summary = summarize(ledger, run_id, host)
        host.notify("lkadv_run_finished", summary=summary)
    seconds = time.perf_counter() - t0
    return RunResult(run_id, options.run_dir, plan, summary, events.computed, len(done), seconds, events.failures)


def _record_plan(ledger: Ledger, run_id: int, plan: Plan) -> None:
    subset = plan.subset
    ledger.add_subset(subset.digest, subset.ids, subset.rule, subset.total)
    ledger.add_subset_labels(subset.digest, plan.imageset.labels[list(subset.positions)].tolist())
    ledger.add_cells(run_id, [_cell_row(c, plan) for c in plan.cells])


def _pending(
    plan: Plan, done: set[tuple[str, int]], events: _Events, identities: dict[str, Identified]
) -> set[tuple[str, int]]:
    """Units still to compute; cells of models that failed to build are failed now."""
    pending = {(c.key, s) for c in plan.cells for s in range(plan.n_shards)} - done
    for cell in plan.cells:
        error = identities[cell.model.name].error
        if error is not None:
            events.cell_failed(cell, error)
            pending -= {(cell.key, s) for s in range(plan.n_shards)}
    busy = {c.model.name for c in plan.cells if any((c.key, s) in pending for s in range(plan.n_shards))}
    for name, ident in identities.items():
        if name not in busy:
            ident.network = None  # nothing left to compute: do not hold it
    return pending


def _lookup(ledger: Ledger, plan: Plan, done: set[tuple[str, int]]) -> Lookup:
    def lookup(cell: Cell, shard: int) -> Outcomes | None:
        if (cell.key, shard) not in done:
            return None
        start, stop = plan.shard_bounds(shard)
        return ledger.outcomes(cell.key, start, stop)

    return lookup


def _execute(
    executor: Executor,
    plan: Plan,
    pending: set[tuple[str, int]],
    lookup: Lookup,
    events: _Events,
    record: tuple[Ledger, int, Progress | None],
) -> None:
    """Hand the pending units to the executor; the run's status is recorded however it ends."""
    ledger, run_id, shown = record
    status = "failed"
    try:
        if pending:
            executor.run(plan, pending, lookup, events)
        status = "failed" if events.failures else "done"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if shown is not None:
            shown.stop()
        ledger.finish_run(run_id, status)
