"""The settings section: what each cell effectively ran with, enough to repeat it with its backend."""

from __future__ import annotations

from typing import Any

from lkadv.metrics._summary import ReportSection, Summary

__all__ = ["settings_section"]


def _seeds(units: list[dict[str, Any]]) -> str:
    seeds = [u["seed"] for u in units if "seed" in u]
    if not seeds:
        return "-"
    return str(seeds[0]) if len(seeds) == 1 else f"{seeds[0]} (+{len(seeds) - 1} shards)"


def _one(units: list[dict[str, Any]], key: str) -> str:
    values = sorted({str(u[key]) for u in units if key in u})
    return ", ".join(values) if values else "-"


def settings_section(summary: Summary) -> ReportSection | None:
    """Per attack and corruption cell: backend, batch size, precision, device, engine path and seeds.

    Every unit's own settings (its samples and the seed handed to the backend)
    are in the JSON export, under each cell's ``units``.
    """
    rows: list[list[Any]] = []
    for cell in summary.cells:
        if cell.kind not in ("attack", "corruption") or not cell.units:
            continue
        engine = cell.info.get("engine", {})
        rows.append(
            [
                cell.model,
                cell.label,
                cell.backend or "-",
                _one(cell.units, "batch_size"),
                _one(cell.units, "precision"),
                _one(cell.units, "device"),
                engine.get("path", "-") if cell.kind == "attack" else "-",
                _seeds(cell.units),
            ]
        )
    if not rows:
        return None
    return ReportSection(
        title="effective settings (per cell; every unit's in the JSON export)",
        columns=["model", "threat", "backend", "batch", "precision", "device", "engine", "seed handed to the backend"],
        rows=rows,
        notes=[
            "a unit's seed seeds its attack's generator (AutoAttack: the backend's seed) or its corruption's draws; "
            "each unit covers subset positions start..stop of the run's sample ids"
        ],
        key="settings",
        brief=False,
    )
