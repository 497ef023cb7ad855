"""Writing an analysis's table (md, csv, json) and figure (SVG, PNG), each file atomically."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lkadv.analyses._base import Analysis, Results

__all__ = ["write_figure", "write_tables"]


def _atomic(path: Path, data: bytes) -> None:
    # A kill mid-write leaves the previous file (or none), never half of one.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for row in rows:
        cols += [k for k in row if k not in cols]
    return cols


def write_tables(
    folder: Path, name: str, rows: Sequence[dict[str, Any]], skipped: Sequence[dict[str, str]]
) -> list[Path]:
    """``<name>.md``, ``<name>.csv`` and ``<name>.json`` under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    cols = _columns(rows)
    md = [f"# {name}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    md += ["", *(f"- skipped {s['model']}: {s['reason']}" for s in skipped)]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=cols, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out = [folder / f"{name}.md", folder / f"{name}.csv", folder / f"{name}.json"]
    _atomic(out[0], ("\n".join(md) + "\n").encode())
    _atomic(out[1], text.getvalue().encode())
    _atomic(out[2], json.dumps({"analysis": name, "rows": list(rows), "skipped": list(skipped)}, indent=1).encode())
    return out


def write_figure(folder: Path, name: str, analysis: Analysis, results: Results) -> list[Path]:
    """``<name>.svg`` and ``<name>.png`` under ``folder``, every model in one figure."""
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    figure = Figure(layout="constrained")
    analysis.plot(figure, results)
    figure.suptitle(name)
    out = []
    for suffix in (".svg", ".png"):
        buffer = io.BytesIO()
        if suffix == ".svg":
            # No date in the SVG, so the same results give the same file.
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            figure.savefig(buffer, format="png", dpi=150)
        _atomic(folder / f"{name}{suffix}", buffer.getvalue())
        out.append(folder / f"{name}{suffix}")
    return out
