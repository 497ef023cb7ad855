"""A comparison of runs in every format: terminal, markdown, csv, json and html."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich.console import Console

from lkadv.reporters._compare import Comparison
from lkadv.reporters._escape import as_text, csv_cell, md_cell
from lkadv.reporters._formats import render_json_value, section_renderables
from lkadv.reporters._html import asset, environment, html_section

__all__ = ["COMPARE_FORMATS", "render_comparison"]

COMPARE_FORMATS = ("terminal", "md", "csv", "json", "html")


def _terminal(comparison: Comparison, width: int = 200) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False)
    console.print(as_text(comparison.title, style="bold"))
    for note in comparison.notes:
        console.print(as_text(note))
    for section in comparison.sections:
        for renderable in section_renderables(section, width=width):
            console.print(renderable)
    text: str = console.file.getvalue()  # type: ignore[attr-defined]
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _value(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _markdown(comparison: Comparison) -> str:
    lines = [f"### {md_cell(comparison.title)}", ""] + [f"- {md_cell(n)}" for n in comparison.notes]
    for s in comparison.sections:
        lines += ["", f"#### {md_cell(s.title)}", "", "| " + " | ".join(map(md_cell, s.columns)) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(s.columns) - 1)) + "|")
        lines += ["| " + " | ".join(md_cell(_value(v)) for v in row) + " |" for row in s.rows]
        if s.notes:
            lines += [""] + [f"- {md_cell(n)}" for n in s.notes]
    return "\n".join(lines) + "\n"


def _csv(comparison: Comparison) -> str:
    """One row per ranked (threat, model), then one per differing field of a threat not compared."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    head = ["kind", "threat", "rank", "model", "family", "run", "accuracy", "ci", "delta_pp", "p_vs_first", "n"]
    writer.writerow([*head, "field", "first_value", "other_value"])
    for s in comparison.sections:
        if s.key.startswith("ranking:"):
            threat = s.key.split(":", 1)[1]
            for row in s.rows:
                writer.writerow(["ranking", csv_cell(threat), *(csv_cell(_csv_value(v)) for v in row), "", "", ""])
        elif s.key == "not-compared":
            for threat, runs, path, first, other in s.rows:
                cells = ["not-compared", csv_cell(threat), "", "", "", csv_cell(runs), "", "", "", "", ""]
                writer.writerow([*cells, csv_cell(path), csv_cell(first), csv_cell(other)])
    return buf.getvalue()


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def _html(comparison: Comparison) -> str:
    from markupsafe import Markup

    return (
        environment()
        .from_string(asset("compare.html.j2"))
        .render(
            title=comparison.title,
            notes=comparison.notes,
            sections=[html_section(s, i) for i, s in enumerate(comparison.sections)],
            css=Markup(asset("report.css")),  # noqa: S704 - lkadv's own stylesheet
            js=Markup(asset("report.js")),  # noqa: S704 - lkadv's own script
        )
    )


def render_comparison(comparison: Comparison, fmt: str) -> str:
    """The comparison in one of :data:`COMPARE_FORMATS`."""
    if fmt == "terminal":
        return _terminal(comparison)
    if fmt == "md":
        return _markdown(comparison)
    if fmt == "csv":
        return _csv(comparison)
    if fmt == "json":
        return render_json_value(comparison.as_dict())
    if fmt == "html":
        return _html(comparison)
    raise ValueError(f"unknown comparison format {fmt!r}; choose one of {', '.join(COMPARE_FORMATS)}")
