"""A models x benchmarks table across every run of a run directory."""

from __future__ import annotations

import math
from typing import Any

from lkadv.metrics._summary import ReportSection
from lkadv.plugins import PluginHost
from lkadv.store import Ledger
from lkadv.types import resolve

__all__ = ["benchmark_table"]


def _top1(ids: Any, outcomes: Any) -> dict[str, float]:
    return {"top-1 %": float(100.0 * outcomes.correct.mean()) if len(outcomes) else math.nan}


def benchmark_table(ledger: Ledger, host: PluginHost) -> ReportSection:
    """Each model's headline figures on each benchmark, from the clean cells of all runs.

    Every dataset gives its figures in its published form through its spec's
    ``benchmark`` function (masked top-1, AUPR, mCE, BG-Gap...); datasets
    without one give top-1. A later run of the same model and dataset replaces
    an earlier one; cells not finished are left out.

    Args:
        ledger: An open ledger.
        host: Plugins (for the dataset specs).

    Returns:
        A section with one row per model and one column per dataset figure.
    """
    figures: dict[str, dict[str, float]] = {}
    columns: dict[str, None] = {}
    notes: list[str] = []
    for run in ledger.runs():
        dataset = run["plan"].get("dataset", "?")
        digest = run["plan"].get("subset", {}).get("digest", "")
        if dataset in host.registries.datasets:
            spec = host.registries.datasets.get(dataset)
            ref = spec.benchmark
            fn = _top1 if ref is None else (resolve(ref))
        else:
            fn = _top1
        ids = ledger.subset_ids(digest)
        subset = run["plan"].get("subset", {})
        if subset.get("n") != subset.get("total"):
            notes.append(
                f"{dataset} (run {run['id']}): {subset.get('n')} of {subset.get('total')}, {subset.get('rule')}"
            )
        for cell in ledger.cells(run["id"]):
            if cell.threat_kind != "clean" or cell.status != "done":
                continue
            outcomes = ledger.outcomes(cell.key)
            if len(outcomes) != len(ids):
                continue
            for name, value in fn(ids, outcomes).items():
                column = f"{dataset} {name}"
                columns.setdefault(column, None)
                figures.setdefault(cell.model, {})[column] = value
    rows = [[model, *[_fmt(vals.get(c)) for c in columns]] for model, vals in figures.items()]
    return ReportSection(
        title="benchmarks (clean cells of every run, published forms)",
        columns=["model", *columns],
        rows=rows,
        notes=list(dict.fromkeys(notes)),
        key="benchmarks",
    )


def _fmt(value: float | None) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, 2)
