"""``lkadv compare``: a leaderboard across runs, joined on cell identity.

A threat column of two runs is compared only when everything that can change
its outcomes, apart from the model, is the same: the threat and its full
configuration, the dataset, its version and sample subset, scoring, seeds,
sharding and lkadv's version (the cell's key material without its model part).
A column whose identity differs between runs is not compared; it is listed with
each field that differs. A model is one entry per distinct model identity
(weights, code, preprocessing): the same cell found in two runs is one entry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lkadv.errors import ConfigError
from lkadv.metrics import ReportSection, accuracy, paired_test, summarize
from lkadv.store import LEDGER_FILE, Ledger

__all__ = ["ABSENT", "Comparison", "compare_runs", "identity_diff"]

ABSENT = "(absent)"  # a field one identity has and the other lacks (a null value is a value)

# Key material that belongs to the model (an entry), not to the threat column.
_MODEL_PARTS = ("model", "preprocessing")
# Derived from the configuration: listed only when nothing else differs.
_DERIVED = ("threat.id", "threat.label")


@dataclass
class Comparison:
    """Several runs side by side.

    Attributes:
        title: Heading.
        runs: One dict per run: ``label``, ``dir``, ``run``, ``dataset``, ``samples``, ``status``.
        sections: Leaderboard, one ranking per compared threat, the columns not compared.
        notes: Lines under the title.
    """

    title: str
    runs: list[dict[str, Any]]
    sections: list[ReportSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "title": self.title,
            "runs": self.runs,
            "notes": self.notes,
            "sections": [s.as_dict() for s in self.sections],
        }


@dataclass
class _Cell:
    run: str
    model: str
    family: str
    label: str
    key: str
    column_identity: dict[str, Any]
    entry_identity: dict[str, Any]
    correct: np.ndarray
    also: list[str] = field(default_factory=list)  # other runs that hold this very cell

    @property
    def runs(self) -> str:
        """The runs holding the cell (``A+C``)."""
        return "+".join([self.run, *self.also])


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> dict[str, Any]:
    """Leaf fields by dotted path (an empty table is a leaf: it is a value, not nothing)."""
    if isinstance(value, dict) and (value or not prefix):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value
    return out


def identity_diff(first: dict[str, Any], second: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Each leaf field where two identities differ: ``(path, first value, second value)``.

    A field only one side has is reported with :data:`ABSENT` on the other side.
    Fields derived from others (the threat's id and label) are listed only when
    nothing else differs.
    """
    a, b = _flatten("", first, {}), _flatten("", second, {})
    diffs = [
        (k, a.get(k, ABSENT), b.get(k, ABSENT))
        for k in sorted(a.keys() | b.keys())
        if k not in a or k not in b or a[k] != b[k]
    ]
    core = [d for d in diffs if d[0] not in _DERIVED]
    return core or diffs


def _read_run(label: str, run_dir: Path) -> tuple[dict[str, Any], list[_Cell]]:
    if not (run_dir / LEDGER_FILE).exists():
        raise ConfigError(f"{run_dir}: no {LEDGER_FILE} here; give run directories written by `lkadv run`")
    with Ledger(run_dir) as ledger:
        summary = summarize(ledger)
        specs = {row.key: row.spec for row in ledger.cells(summary.run["id"])}
        cells = []
        for c in summary.cells:
            if c.status != "done" or c.accuracy is None:
                continue
            spec = specs[c.key]
            cells.append(
                _Cell(
                    run=label,
                    model=c.model,
                    family=c.family,
                    label=c.label,
                    key=c.key,
                    column_identity={k: v for k, v in spec.items() if k not in _MODEL_PARTS},
                    entry_identity={k: spec.get(k) for k in _MODEL_PARTS},
                    correct=ledger.outcomes(c.key).correct,
                )
            )
    info = {
        "label": label,
        "dir": str(run_dir),
        "run": summary.run["id"],
        "dataset": summary.dataset,
        "samples": summary.subset.get("n"),
        "status": summary.run.get("status"),
    }
    return info, cells


def _run_labels(run_dirs: Sequence[Path]) -> list[str]:
    return [chr(ord("A") + i) if i < 26 else f"R{i + 1}" for i in range(len(run_dirs))]


def compare_runs(run_dirs: Sequence[Path]) -> Comparison:
    """Join the latest run of each directory on cell identity and rank the models per threat.

    Args:
        run_dirs: Two or more run directories.

    Returns:
        The comparison (every number in it comes from the runs' ledgers).

    Raises:
        ConfigError: With fewer than two directories, or one without a ledger.
    """
    if len(run_dirs) < 2:
        raise ConfigError("lkadv compare needs two or more run directories (lkadv compare RUN_A RUN_B ...)")
    runs, cells = [], []
    for label, run_dir in zip(_run_labels(run_dirs), run_dirs, strict=True):
        info, run_cells = _read_run(label, Path(run_dir))
        runs.append(info)
        cells += run_cells
    columns = list(dict.fromkeys(c.label for c in cells))
    names = _entry_names(cells)
    compared, refused = _join(cells, columns)
    sections = [_leaderboard(compared, names)]
    sections += [_ranking(label, group, names) for label, group in compared.items()]
    sections.append(_refused_section(refused))
    sections.append(_runs_section(runs))
    notes = [f"run {r['label']}: {r['dir']} (run {r['run']}, {r['dataset']}, {r['samples']} samples)" for r in runs]
    return Comparison(f"lkadv compare: {len(runs)} runs", runs, sections, notes)


def _entry_names(cells: list[_Cell]) -> dict[tuple[str, str], str]:
    """A display name per (model, entry identity): the model's name, with its runs when the name is ambiguous."""
    by_model: dict[str, dict[str, list[str]]] = {}
    for c in cells:
        ident = repr(sorted(_flatten("", c.entry_identity, {}).items()))
        runs = by_model.setdefault(c.model, {}).setdefault(ident, [])
        if c.run not in runs:
            runs.append(c.run)
    out = {}
    for model, idents in by_model.items():
        for ident, runs in idents.items():
            out[(model, ident)] = model if len(idents) == 1 else f"{model} (run {'+'.join(runs)})"
    return out


def _entry(c: _Cell) -> tuple[str, str]:
    return c.model, repr(sorted(_flatten("", c.entry_identity, {}).items()))


def _join(
    cells: list[_Cell], columns: list[str]
) -> tuple[dict[str, list[_Cell]], list[tuple[str, str, str, Any, Any]]]:
    """Per column, the cells whose column identity matches the first run's; the others' differing fields."""
    compared: dict[str, list[_Cell]] = {}
    refused: list[tuple[str, str, str, Any, Any]] = []
    for label in columns:
        group = [c for c in cells if c.label == label]
        reference = group[0]
        kept: dict[tuple[str, str], _Cell] = {}
        reported: set[str] = set()
        for c in group:
            diffs = identity_diff(reference.column_identity, c.column_identity)
            if diffs:
                if c.run not in reported:
                    reported.add(c.run)
                    refused += [(label, f"{reference.run} vs {c.run}", path, a, b) for path, a, b in diffs]
                continue
            first = kept.setdefault(_entry(c), c)  # the same cell in two runs is one entry
            if first is not c and c.run not in first.also:
                first.also.append(c.run)
        if len({r for c in kept.values() for r in (c.run, *c.also)}) > 1 or not reported:
            compared[label] = list(kept.values())
    return compared, refused


def _ranks(values: list[float]) -> list[int]:
    """Competition ranks, best (highest) first: ties share a rank."""
    return [1 + sum(v > x for v in values) for x in values]


def _ranking(label: str, group: list[_Cell], names: dict[tuple[str, str], str]) -> ReportSection:
    estimates = [accuracy(c.correct) for c in group]
    order = sorted(range(len(group)), key=lambda i: -estimates[i].value)
    ranks = _ranks([e.value for e in estimates])
    best = group[order[0]]
    rows: list[list[Any]] = []
    for i in order:
        c, est = group[i], estimates[i]
        test = paired_test(best.correct, c.correct) if len(c.correct) == len(best.correct) else None
        rows.append(
            [
                ranks[i],
                names[_entry(c)],
                c.family,
                c.runs,
                round(100 * est.value, 2),
                f"[{100 * est.low:.1f}, {100 * est.high:.1f}]",
                round(100 * (est.value - estimates[order[0]].value), 2),
                None if test is None or c is best else f"{test.p_value:.3g}",
                est.n,
            ]
        )
    return ReportSection(
        title=f"{label}: ranking (accuracy, %)",
        columns=["rank", "model", "family", "run", "accuracy", "95% CI", "delta vs #1 (pp)", "p vs #1", "n"],
        rows=rows,
        notes=[
            "95% CI: Wilson score interval; p vs #1: two-sided exact McNemar test against the top entry "
            "on the same samples (the column's identity fixes the sample subset)"
        ],
        key=f"ranking:{label}",
    )


def _leaderboard(compared: dict[str, list[_Cell]], names: dict[tuple[str, str], str]) -> ReportSection:
    entries: dict[str, dict[str, Any]] = {}
    for label, group in compared.items():
        values = [accuracy(c.correct).value for c in group]
        for c, rank, v in zip(group, _ranks(values), values, strict=True):
            row = entries.setdefault(names[_entry(c)], {"family": c.family, "runs": set(), "cols": {}})
            row["runs"].update((c.run, *c.also))
            row["cols"][label] = (rank, v)
    rows = []
    for name, row in entries.items():
        ranks = [r for r, _ in row["cols"].values()]
        cells = [round(100 * row["cols"][c][1], 2) if c in row["cols"] else None for c in compared]
        rows.append([name, row["family"], "+".join(sorted(row["runs"])), round(float(np.mean(ranks)), 2), *cells])
    rows.sort(key=lambda r: (r[3], r[0]))
    return ReportSection(
        title="leaderboard across runs (accuracy, %; mean rank over the compared threats)",
        columns=["model", "family", "runs", "mean rank", *compared],
        rows=rows,
        notes=["each threat's ranking below gives intervals, deltas and significance"],
        key="leaderboard",
    )


def _refused_section(refused: list[tuple[str, str, str, Any, Any]]) -> ReportSection:
    rows: list[list[Any]] = [[label, runs, path, _show(a), _show(b)] for label, runs, path, a, b in refused]
    return ReportSection(
        title="not compared: threats whose cell identity differs between runs",
        columns=["threat", "runs", "differing field", "first run's value", "other run's value"],
        rows=rows,
        notes=["none: every threat has the same identity in every run"] if not rows else [],
        key="not-compared",
    )


def _show(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.10g}"
    return "null" if value is None else str(value)


def _runs_section(runs: list[dict[str, Any]]) -> ReportSection:
    return ReportSection(
        title="runs",
        columns=["run", "directory", "run id", "dataset", "samples", "status"],
        rows=[[r["label"], r["dir"], r["run"], r["dataset"], r["samples"], r["status"]] for r in runs],
        key="runs",
    )
