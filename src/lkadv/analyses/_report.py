"""The analyses' tables as sections of ``lkadv report`` when the run directory holds them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lkadv.metrics import ReportSection

__all__ = ["analysis_sections"]


def analysis_sections(run_dir: Path) -> list[ReportSection]:
    """One section per ``analyses/<name>.json`` table (written from the store by ``lkadv analyze``)."""
    sections = []
    for path in sorted((run_dir / "analyses").glob("*.json")):
        try:
            data: dict[str, Any] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a table being rewritten; the next report shows it
        rows = data.get("rows") or []
        columns = list(dict.fromkeys(k for row in rows for k in row))
        notes = [f"skipped {s['model']}: {s['reason']}" for s in data.get("skipped", [])]
        if path.with_suffix(".svg").is_file():
            notes.append(f"figure: {path.with_suffix('.svg')}")
        sections.append(
            ReportSection(
                title=f"analysis: {data.get('analysis', path.stem)}",
                columns=columns,
                rows=[[row.get(c) for c in columns] for row in rows],
                notes=notes,
                key=f"analysis:{path.stem}",
                brief=False,
            )
        )
    return sections
