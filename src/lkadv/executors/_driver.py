"""The driver: plans a run, records it, hands pending units to an executor, commits results.

Everything that can be wrong with the options is found while planning, before
the run directory is touched. From then on every finished unit is committed
before the next starts, so an interrupted run loses only the units in flight.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lkadv._imports import resolve
from lkadv.attacks._switches import check_switches
from lkadv.config import RunOptions
from lkadv.executors._base import Executor, UnitOutcome
from lkadv.executors._identify import Identified, identify_models
from lkadv.metrics import Summary, summarize
from lkadv.planner import Cell, Plan, Unit, make_plan
from lkadv.plugins import PluginHost
from lkadv.specs import ModelSpec
from lkadv.store import Ledger, Outcomes, provenance

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Progress", "RunResult", "run"]


class Progress(Protocol):
    """Something that shows a run's progress (the CLI's live table, plain lines...)."""

    def start(self, plan: Plan, pending: set[tuple[str, int]]) -> None:
        """The run starts with ``pending`` units to compute."""
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

    def stage_finished(self, unit: Unit, stages_done: int, state: dict[str, Any]) -> None:
        self.ledger.save_progress(unit.cell.key, unit.shard, stages_done, state)

    def saved_progress(self, unit: Unit) -> tuple[int, dict[str, Any]] | None:
        return self.ledger.progress(unit.cell.key, unit.shard)

    def cell_failed(self, cell: Cell, error: str) -> None:
        self.failures[cell.key] = error
        self.ledger.set_cell_info(cell.key, {"error": error})
        if self.progress is not None:
            self.progress.failed(cell, error)


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


def run(options: RunOptions, *, host: PluginHost | None = None, progress: Progress | None = None) -> RunResult:
    """Run (or resume) the benchmark matrix the options describe.

    Finished units found in the run directory's ledger are reused, whichever
    run computed them; only the rest is computed.

    Args:
        options: Run options.
        host: Loaded plugins (default: load them now, strict as the options say).
        progress: Progress display.

    Returns:
        What was run and its summary.

    Raises:
        LkadvError: On bad options or data (before anything is written), or a store failure.
    """
    t0 = time.perf_counter()
    check_switches()
    host = host or PluginHost(strict=options.strict_plugins)
    plan = make_plan(options, host)
    identities = identify_models(plan.models)
    plan = plan.identified({name: ident.material for name, ident in identities.items()})
    spec = host.registries.executors.get(options.executor)
    factory = resolve(spec.factory) if isinstance(spec.factory, str) else spec.factory
    executor: Executor = factory(device=options.device)
    device = getattr(executor, "device", options.device)
    plugins = {name: f"{p.version} ({p.status})" for name, p in host.plugins.items()}
    with Ledger(options.run_dir, create=True, lock=True) as ledger:
        run_id = ledger.start_run(plan.describe(), provenance(device, options.precision, options.seed, plugins))
        ledger.add_subset(plan.subset.digest, plan.subset.ids, plan.subset.rule, plan.subset.total)
        ledger.add_subset_labels(plan.subset.digest, plan.imageset.labels[list(plan.subset.positions)].tolist())
        ledger.add_cells(run_id, [_cell_row(c, plan) for c in plan.cells])
        keys = {c.key for c in plan.cells}
        done = ledger.done_units(keys)
        pending = {(c.key, s) for c in plan.cells for s in range(plan.n_shards)} - done
        events = _Events(ledger, run_id, host, progress, identities)
        for cell in plan.cells:
            error = identities[cell.model.name].error
            if error is not None:
                events.cell_failed(cell, error)
                pending -= {(cell.key, s) for s in range(plan.n_shards)}
        model_of = {c.key: c.model.name for c in plan.cells}
        busy = {model_of[key] for key, _ in pending}
        for name, ident in identities.items():
            if name not in busy:
                ident.network = None  # nothing left to compute: do not hold it

        def lookup(cell: Cell, shard: int) -> Outcomes | None:
            if (cell.key, shard) not in done:
                return None
            start, stop = plan.shard_bounds(shard)
            return ledger.outcomes(cell.key, start, stop)

        host.notify("lkadv_run_started", plan=plan)
        if progress is not None:
            progress.start(plan, pending)
        status = "failed"
        try:
            if pending:
                executor.run(plan, pending, lookup, events)
            status = "failed" if events.failures else "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            if progress is not None:
                progress.stop()
            ledger.finish_run(run_id, status)
        summary = summarize(ledger, run_id, host)
        host.notify("lkadv_run_finished", summary=summary)
    return RunResult(
        run_id, options.run_dir, plan, summary, events.computed, len(done), time.perf_counter() - t0, events.failures
    )
