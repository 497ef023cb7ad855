"""Report formats: terminal (rich), markdown, csv and json, all from a Summary."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from rich.console import Console, RenderableType

from lkadv.metrics import ReportSection, Summary
from lkadv.reporters._escape import as_text, csv_cell, md_cell
from lkadv.reporters._layout import split_table
from lkadv.reporters._tables import footnotes, main_table

__all__ = [
    "render_csv",
    "render_json",
    "render_json_value",
    "render_markdown",
    "render_terminal",
    "rich_table",
    "rich_tables",
    "section_renderables",
]


def _title(summary: Summary) -> str:
    run = summary.run
    prov = run.get("provenance", {})
    n = summary.subset.get("n", "?")
    attacks = f" - attacks at {prov.get('precision', '?')}" if any(c.kind == "attack" for c in summary.cells) else ""
    return (
        f"lkadv run {run.get('id')} - {summary.dataset} - {n} samples - "
        f"{prov.get('device', '?')}{attacks} - {run.get('status')}"
    )


def _style(text: str) -> str:
    try:
        value = float(text.split(" ", 1)[0].rstrip("*"))
    except ValueError:
        return "red" if text == "failed" else "dim"
    return "green" if value >= 70 else "yellow" if value >= 30 else "red"


def rich_table(summary: Summary, width: int | None = None) -> list[RenderableType]:
    """The models x threats table (accuracy in %), split to fit ``width``, then its footnotes."""
    columns, rows = main_table(summary, intervals=True)
    header = [as_text("model"), as_text("family"), *(as_text(c) for c in columns)]
    cells = [[as_text(m), as_text(f), *(as_text(c, style=_style(c)) for c in rest)] for m, f, *rest in rows]
    out: list[RenderableType] = list(
        split_table(as_text(_title(summary)), header, cells, keys=2, width=width, key_style=("bold", "cyan"))
    )
    notes = footnotes(summary)
    if notes:  # printed under the table at the console's width, not wrapped at the table's
        out.append(as_text("\n".join(notes), style="dim"))
    return out


def section_renderables(section: ReportSection, brief: bool = False, width: int | None = None) -> list[RenderableType]:
    """A section as rich tables fitting ``width`` (split when wider), then its notes."""
    header = [as_text(c) for c in section.columns]
    cells = [[as_text(_value(v)) for v in row] for row in section.rows]
    out: list[RenderableType] = list(split_table(as_text(section.title), header, cells, keys=1, width=width))
    notes = section.notes if brief else [*section.notes, *section.details]
    if notes:
        out.append(as_text("\n".join(map(str, notes)), style="dim"))
    return out


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def rich_tables(summary: Summary, *, brief: bool = False, width: int | None = None) -> list[RenderableType]:
    """The main table followed by every report section, each table fitting ``width`` characters.

    ``brief`` is the view at the end of ``lkadv run``: reference sections and long
    explanations are left to ``lkadv report``.
    """
    out = rich_table(summary, width)
    for section in summary.sections:
        if section.brief or not brief:
            out += section_renderables(section, brief, width)
    return out


def render_terminal(summary: Summary, width: int = 200) -> str:
    """The tables rendered to plain text at ``width`` columns, without trailing spaces."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    for renderable in rich_tables(summary, width=width):
        console.print(renderable)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.split("\n"))


def render_markdown(summary: Summary) -> str:
    """A GitHub-flavoured markdown table (accuracies with their 95% intervals) with footnotes."""
    columns, rows = main_table(summary, intervals=True)
    head = ["model", "family", *columns]
    lines = [
        f"### {md_cell(_title(summary))}",
        "",
        "| " + " | ".join(map(md_cell, head)) + " |",
        "|" + "|".join(["---", "---"] + ["---:"] * len(columns)) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(map(md_cell, row)) + " |")
    lines.append("")
    lines += [f"- {md_cell(note)}" for note in footnotes(summary)]
    for section in summary.sections:
        lines += [
            "",
            f"#### {md_cell(section.title)}",
            "",
            "| " + " | ".join(map(md_cell, section.columns)) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(section.columns) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(md_cell(_value(v)) for v in row) + " |" for row in section.rows]
        if section.notes or section.details:
            lines += [""] + [f"- {md_cell(note)}" for note in (*section.notes, *section.details)]
    return "\n".join(lines) + "\n"


def render_csv(summary: Summary) -> str:
    """One row per cell (tidy form), with the interval and the full threat identity."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "model",
            "family",
            "threat",
            "threat_id",
            "kind",
            "eps",
            "severity",
            "n",
            "correct",
            "accuracy",
            "ci_low",
            "ci_high",
            "status",
            "seconds",
            "cell_key",
            "backend",
            "batch_size",
            "precision",
            "device",
            "engine",
            "unit_seeds",
        ]
    )
    for c in summary.cells:
        acc = c.accuracy
        writer.writerow(
            [
                csv_cell(c.model),
                csv_cell(c.family),
                csv_cell(c.label),
                csv_cell(c.threat_id),
                c.kind,
                "" if c.eps is None else f"{c.eps:.8g}",
                "" if c.severity is None else c.severity,
                acc.n if acc else 0,
                acc.k if acc else 0,
                f"{acc.value:.6f}" if acc else "",
                f"{acc.low:.6f}" if acc else "",
                f"{acc.high:.6f}" if acc else "",
                c.status,
                f"{c.seconds:.3f}",
                c.key,
                csv_cell(c.backend or ""),
                _unit_values(c.units, "batch_size"),
                _unit_values(c.units, "precision"),
                _unit_values(c.units, "device"),
                csv_cell(str(c.info.get("engine", {}).get("path", ""))),
                ";".join(f"{u['shard']}:{u['seed']}" for u in c.units if "seed" in u),
            ]
        )
    return buf.getvalue()


def _unit_values(units: list[dict[str, Any]], key: str) -> str:
    return ";".join(sorted({str(u[key]) for u in units if key in u}))


def _finite(value: Any, path: str, nulls: list[str]) -> Any:
    """``value`` with every NaN or infinity replaced by None (JSON has neither); their paths in ``nulls``."""
    if isinstance(value, float) and not math.isfinite(value):
        nulls.append(path)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{path}.{k}", nulls) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{path}[{i}]", nulls) for i, v in enumerate(value)]
    return value


def render_json(summary: Summary) -> str:
    """The whole summary (provenance included) as strict JSON.

    A value that could not be computed (NaN: an mCE with a missing corruption,
    an accuracy over no sample) is written as null, and its path is listed
    under ``null_values`` with the reason, so no reader meets a bare ``NaN``.
    """
    return render_json_value(summary.as_dict())


def render_json_value(value: dict[str, Any]) -> str:
    """Strict JSON of a report's data: NaN and infinities written as null, their paths under ``null_values``."""
    nulls: list[str] = []
    data = _finite(value, "$", nulls)
    if nulls:
        data["null_values"] = {
            "paths": nulls,
            "why": "not computable (NaN or infinite), e.g. an mCE over corruptions that did not all run, "
            "or an accuracy over no sample; see the notes of the section that holds it",
        }
    return json.dumps(data, indent=2, sort_keys=False, default=str, allow_nan=False) + "\n"
