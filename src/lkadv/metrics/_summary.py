"""The summary of a run: a models x threats table read back from the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lkadv.metrics._accuracy import Estimate, accuracy
from lkadv.plugins import PluginHost
from lkadv.store import CellRow, Ledger

__all__ = ["CellResult", "ReportSection", "Summary", "summarize"]


@dataclass
class ReportSection:
    """A table printed under the main one (corruption metrics, benchmark scores, sanity flags).

    Attributes:
        title: Heading; says which form the figures take (e.g. "mCE, AlexNet-normalized, %").
        columns: Column names.
        rows: Rows of values (str, numbers or None).
        notes: Lines printed under the table.
        key: Stable identifier, for JSON consumers.
        details: Longer explanations, printed by ``lkadv report`` but not in the
            brief view at the end of ``lkadv run``.
        brief: Whether the brief view at the end of ``lkadv run`` shows the section
            (reference tables such as the effective settings are for ``lkadv report``).
    """

    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    key: str = ""
    details: list[str] = field(default_factory=list)
    brief: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "title": self.title,
            "columns": self.columns,
            "rows": self.rows,
            "notes": [*self.notes, *self.details],
        }


@dataclass(frozen=True)
class CellResult:
    """One cell's result.

    Attributes:
        key: Cell key.
        model: Model name.
        family: Model family.
        kind: ``clean``, ``attack`` or ``corruption``.
        name: Threat name.
        label: Column label.
        threat_id: Full threat identity (attack configuration included).
        eps: Attack radius.
        severity: Corruption severity.
        status: ``pending``, ``partial``, ``done`` or ``failed``.
        units_done: Finished units.
        n_units: Units in the cell.
        accuracy: Accuracy over the finished samples (None if none).
        seconds: Compute time.
        info: Facts recorded while running.
        units: Each finished unit's samples (``start``/``stop`` in the subset) and the
            settings it ran with (seed handed to the backend, batch size, device,
            precision): enough to repeat it with the backend directly.
        backend: Implementation that ran the threat, with its version (attacks).
        stage: For an interrupted multi-stage attack: ``(stages done, stages)``.
    """

    key: str
    model: str
    family: str
    kind: str
    name: str
    label: str
    threat_id: str
    eps: float | None
    severity: int | None
    status: str
    units_done: int
    n_units: int
    accuracy: Estimate | None
    seconds: float
    info: dict[str, Any]
    units: list[dict[str, Any]] = field(default_factory=list)
    backend: str | None = None
    stage: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "key": self.key,
            "model": self.model,
            "family": self.family,
            "kind": self.kind,
            "name": self.name,
            "label": self.label,
            "threat_id": self.threat_id,
            "eps": self.eps,
            "severity": self.severity,
            "status": self.status,
            "units_done": self.units_done,
            "n_units": self.n_units,
            "accuracy": self.accuracy.as_dict() if self.accuracy else None,
            "seconds": self.seconds,
            "info": self.info,
            "backend": self.backend,
            "units": self.units,
            "stage": list(self.stage) if self.stage else None,
        }


@dataclass
class Summary:
    """A run's results.

    Attributes:
        run: Run record (id, times, status, plan, provenance).
        dataset: Dataset name.
        subset: Subset description (n, total, rule, digest).
        models: ``(name, family)`` in plan order.
        columns: Column labels in plan order.
        cells: Every cell's result.
        notes: Lines the report prints under the table.
        sections: Further tables contributed by plugins.
    """

    run: dict[str, Any]
    dataset: str
    subset: dict[str, Any]
    models: list[tuple[str, str]]
    columns: list[str]
    cells: list[CellResult]
    notes: list[str] = field(default_factory=list)
    sections: list[ReportSection] = field(default_factory=list)

    def cell(self, model: str, column: str) -> CellResult | None:
        """The result at a model row and a column."""
        for c in self.cells:
            if c.model == model and c.label == column:
                return c
        return None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run": {k: v for k, v in self.run.items() if k != "plan"},
            "dataset": self.dataset,
            "subset": self.subset,
            "models": [{"name": n, "family": f} for n, f in self.models],
            "columns": self.columns,
            "cells": [c.as_dict() for c in self.cells],
            "notes": self.notes,
            "sections": [s.as_dict() for s in self.sections],
        }


def _unit_settings(ledger: Ledger, key: str) -> list[dict[str, Any]]:
    units = []
    for unit in ledger.units(key):
        units.append({k: unit[k] for k in ("shard", "start", "stop")} | dict(unit["info"].get("settings", {})))
    return units


def _backend(threat: dict[str, Any]) -> str | None:
    config = dict(threat.get("config") or {})
    if "backend" not in config:
        return None
    version = config.get("backend_version")
    return f"{config['backend']} {version}" if version else str(config["backend"])


def _cell_result(ledger: Ledger, row: CellRow) -> CellResult:
    outcomes = ledger.outcomes(row.key)
    return CellResult(
        key=row.key,
        model=row.model,
        family=row.family,
        kind=row.threat_kind,
        name=row.threat_name,
        label=row.threat_label,
        threat_id=row.threat_id,
        eps=row.threat.get("eps"),
        severity=row.threat.get("severity"),
        status="failed" if row.info.get("error") and row.status != "done" else row.status,
        units_done=row.units_done,
        n_units=row.n_units,
        accuracy=accuracy(outcomes.correct) if len(outcomes) else None,
        seconds=row.seconds,
        info=row.info,
        units=_unit_settings(ledger, row.key),
        stage=ledger.stages_done(row.key) if row.status != "done" else None,
        backend=_backend(row.threat),
    )


def _notes(subset: dict[str, Any], data: dict[str, Any]) -> list[str]:
    """What a reader must know about the samples: a subset, unreadable files left out."""
    notes = []
    if subset and subset.get("n") != subset.get("total"):
        hint = " (use --limit 0 for all)" if str(subset.get("rule", "")).startswith("balanced(") else ""
        notes.append(f"{subset['n']} of {subset['total']} samples: {subset['rule']}{hint}")
    if data.get("bad_images"):
        notes.append(
            f"{data['bad_images']} unreadable image(s) left out (--on-bad-image skip), e.g. {data['bad_ids'][:3]}"
        )
    if data.get("bad_videos"):
        notes.append(f"{data['bad_videos']} unreadable video(s) left out (--on-bad-image skip)")
    return notes


def summarize(ledger: Ledger, run_id: int | None = None, host: PluginHost | None = None) -> Summary:
    """Read a run's cells and outcomes back and compute their accuracies.

    Args:
        ledger: An open ledger.
        run_id: The run (default: the latest).
        host: Plugins asked for extra report sections (``lkadv_report_sections``).

    Returns:
        The summary.
    """
    run = ledger.run(run_id)
    results: list[CellResult] = []
    models: dict[str, str] = {}
    columns: dict[str, None] = {}
    for row in ledger.cells(run["id"]):
        models.setdefault(row.model, row.family)
        columns.setdefault(row.threat_label, None)
        results.append(_cell_result(ledger, row))
    plan = run["plan"]
    subset = plan.get("subset", {})
    notes = _notes(subset, plan.get("data") or {})
    summary = Summary(run, plan.get("dataset", "?"), subset, list(models.items()), list(columns), results, notes)
    if host is not None:
        summary.sections = host.collect("lkadv_report_sections", summary=summary, ledger=ledger)
    from lkadv.metrics._settings import settings_section  # the section module builds on this one

    settings = settings_section(summary)
    if settings is not None:
        summary.sections.append(settings)
    return summary
