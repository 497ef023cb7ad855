"""The transfer matrix: attack success rate and robust accuracy per (source, target).

Read back from the ledger: for each transfer cell, the samples its target got
right when clean (``attacked``) and those still right on the saved examples
(``correct``). Success rate = fooled / attacked (the transfer literature's
figure); robust accuracy = still correct / all samples (lkadv's main table).
The diagonal (each model attacked on itself) is the LKRobust study's
per-model TAIG figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lkadv.metrics._summary import ReportSection, Summary

__all__ = ["TransferEntry", "transfer_entries", "transfer_sections"]


@dataclass(frozen=True)
class TransferEntry:
    """One (attack, source, target) figure.

    Attributes:
        attack: The attack's label without its source (``taig@8/255``).
        source: Model the examples were crafted on.
        target: Model that scored them.
        n: Samples.
        attacked: Samples the target got right when clean.
        fooled: Of those, samples the examples fool.
        robust: Samples still correct.
    """

    attack: str
    source: str
    target: str
    n: int
    attacked: int
    fooled: int
    robust: int

    @property
    def success_rate(self) -> float:
        """Fooled / attacked (NaN when the target got nothing right)."""
        return self.fooled / self.attacked if self.attacked else float("nan")

    @property
    def robust_accuracy(self) -> float:
        """Still correct / all samples."""
        return self.robust / self.n if self.n else float("nan")


def transfer_entries(summary: Summary, ledger: Any) -> list[TransferEntry]:
    """Every finished transfer cell of the run, in plan order."""
    rows = {r.key: r for r in ledger.cells(summary.run["id"])}
    out = []
    for cell in summary.cells:
        if cell.kind != "transfer" or cell.key not in rows:
            continue
        source = str(dict(rows[cell.key].threat.get("config", {})).get("source", "?"))
        outcomes = ledger.outcomes(cell.key)
        if not len(outcomes):
            continue
        attacked = np.asarray(outcomes.attacked, bool)
        correct = np.asarray(outcomes.correct, bool)
        attack = cell.label.rsplit(" from ", 1)[0]
        out.append(
            TransferEntry(
                attack,
                source,
                cell.model,
                len(correct),
                int(attacked.sum()),
                int((attacked & ~correct).sum()),
                int(correct.sum()),
            )
        )
    return out


def _matrix(entries: list[TransferEntry], attack: str, value: str) -> tuple[list[str], list[list[Any]]]:
    mine = [e for e in entries if e.attack == attack]
    sources = list(dict.fromkeys(e.source for e in mine))
    targets = list(dict.fromkeys(e.target for e in mine))
    table = {(e.source, e.target): e for e in mine}
    rows: list[list[Any]] = []
    for source in sources:
        row: list[Any] = [source]
        for target in targets:
            entry = table.get((source, target))
            figure = None if entry is None else getattr(entry, value)
            row.append(None if figure is None or np.isnan(figure) else round(100 * figure, 2))
        rows.append(row)
    return ["source \\ target", *targets], rows


def transfer_sections(summary: Summary, ledger: Any) -> list[ReportSection]:
    """Per attack: the success-rate matrix and the robust-accuracy matrix, sources as rows."""
    entries = transfer_entries(summary, ledger)
    sections = []
    for attack in dict.fromkeys(e.attack for e in entries):
        own = [e for e in entries if e.attack == attack and e.source == e.target]
        diagonal = ", ".join(f"{e.source} {100 * e.success_rate:.1f}%" for e in own if e.attacked)
        notes = ["scored on the saved 8-bit examples; success rate = fooled / correct when clean"]
        if diagonal:
            notes.append(f"each model attacked on itself (the study's per-model figure): {diagonal}")
        columns, rows = _matrix(entries, attack, "success_rate")
        sections.append(
            ReportSection(f"transfer success rate, {attack} (%)", columns, rows, notes, key=f"transfer:{attack}")
        )
        columns, rows = _matrix(entries, attack, "robust_accuracy")
        sections.append(
            ReportSection(
                f"robust accuracy under transfer, {attack} (%)",
                columns,
                rows,
                ["still correct / all samples, as in the main table"],
                key=f"transfer-robust:{attack}",
            )
        )
    return sections
