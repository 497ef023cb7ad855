"""The HTML report: one self-contained page (inline SVG figures, inline CSS and JS, no network).

Jinja2 renders the page with autoescaping on, so every piece of outside text
(model names, families, plugin sections and notes, errors) is shown as text.
Only three things are inserted as markup: lkadv's own stylesheet and script, and
the SVG that matplotlib writes (its XML writer escapes every text it draws).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from lkadv._text import printable
from lkadv.metrics import CellResult, ReportSection, Summary
from lkadv.reporters._figures import family_colours, plots, to_svg
from lkadv.reporters._gallery import Example, gallery_items
from lkadv.reporters._tables import footnotes, main_table

__all__ = ["asset", "environment", "html_section", "render_html"]


def _shown(value: Any) -> Any:
    """Outside text with control characters shown as escapes (autoescaping leaves them raw); markup untouched."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def environment() -> Any:
    """The Jinja2 environment of lkadv's pages: autoescaped, control characters shown, undefined names fatal."""
    import jinja2

    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_shown)


def asset(name: str) -> str:
    """A file of the page's templates (template, stylesheet, script)."""
    return resources.files("lkadv.reporters").joinpath("templates", name).read_text(encoding="utf-8")


def render_html(
    summary: Summary,
    *,
    large_kernel: Iterable[str] = (),
    examples: Iterable[Example] = (),
    class_names: Sequence[str] | None = None,
) -> str:
    """The run as one self-contained HTML page.

    Args:
        summary: The run (its sections become sortable tables).
        large_kernel: Models to mark as large-kernel ConvNets in tables and figures.
        examples: Saved adversarial examples for the gallery (none: no gallery).
        class_names: Class names for the gallery's captions.

    Returns:
        The page.
    """
    from markupsafe import Markup

    lk = frozenset(large_kernel)
    template = environment().from_string(asset("report.html.j2"))
    figures = [
        {"key": p.key, "title": p.title, "points": p.points, "svg": Markup(to_svg(p))}  # noqa: S704 - matplotlib's SVG
        for p in plots(summary, lk)
    ]
    sections = [html_section(s, i) for i, s in enumerate(summary.sections)]
    gallery = gallery_items(examples, class_names)
    toc = [("matrix", "accuracy matrix")] + [(f"fig-{f['key']}", f["title"]) for f in figures]
    toc += [(s["anchor"], s["title"]) for s in sections]
    toc += [("gallery", "adversarial examples")] if gallery else []
    toc += [("provenance", "provenance"), ("identities", "cell identities")]
    return template.render(
        title=_title(summary),
        subtitle=_subtitle(summary),
        toc=toc,
        families=sorted(family_colours(summary).items()),
        matrix=_matrix(summary, lk),
        figures=figures,
        sections=sections,
        gallery=gallery,
        provenance=_provenance(summary),
        identities=_identities(summary),
        css=Markup(asset("report.css")),  # noqa: S704 - lkadv's own stylesheet
        js=Markup(asset("report.js")),  # noqa: S704 - lkadv's own script
    )


def _title(summary: Summary) -> str:
    return f"lkadv run {summary.run.get('id')} - {summary.dataset}"


def _subtitle(summary: Summary) -> str:
    prov = summary.run.get("provenance", {})
    n = summary.subset.get("n", "?")
    total = summary.subset.get("total", "?")
    return (
        f"{n} of {total} samples ({summary.subset.get('rule', '?')}), device {prov.get('device', '?')}, "
        f"attack precision {prov.get('precision', '?')}, status {summary.run.get('status')}, "
        f"started {summary.run.get('started', '?')}"
    )


def _cell_view(cell: CellResult | None, text: str) -> dict[str, Any]:
    est = cell.accuracy if cell is not None else None
    if cell is None or est is None or est.n == 0:
        return {"text": text, "ci": "", "sort": "", "hover": text, "failed": text == "failed"}
    ci = f"[{100 * est.low:.1f}, {100 * est.high:.1f}]"
    hover = f"{est.k}/{est.n} correct; 95% Wilson interval {ci}; {cell.status}; {cell.threat_id}"
    return {"text": text, "ci": ci, "sort": f"{100 * est.value:.6f}", "hover": hover, "failed": False}


def _matrix(summary: Summary, lk: frozenset[str]) -> dict[str, Any]:
    columns, rows = main_table(summary)
    colours = family_colours(summary)
    out_rows = []
    for model, family, *texts in rows:
        cells = [_cell_view(summary.cell(model, c), t) for c, t in zip(columns, texts, strict=True)]
        out_rows.append(
            {
                "model": model,
                "family": family,
                "colour": colours.get(family, "#888888"),
                "large_kernel": model in lk,
                "cells": cells,
            }
        )
    return {
        "title": "accuracy, % (95% Wilson interval below each value; hover for counts)",
        "columns": ["model", "family", *columns],
        "rows": out_rows,
        "notes": footnotes(summary),
    }


def _format(value: Any) -> tuple[str, str]:
    """A section value's text and its sort key."""
    if value is None:
        return "-", ""
    if isinstance(value, bool):
        return str(value), ""
    if isinstance(value, int):
        return str(value), str(value)
    if isinstance(value, float):
        return ("-", "") if not math.isfinite(value) else (f"{value:.2f}", repr(value))
    return str(value), ""


def html_section(section: ReportSection, index: int) -> dict[str, Any]:
    """A section ready for the page's table template (text and sort key per value)."""
    rows = []
    for row in section.rows:
        out = []
        for i, v in enumerate(row):
            text, sort = _format(v)
            out.append({"text": text, "sort": sort, "text_cell": i == 0 or not sort})
        rows.append(out)
    return {
        "anchor": f"section-{index}",
        "title": section.title,
        "columns": section.columns,
        "rows": rows,
        "notes": [*section.notes, *section.details],
    }


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out.append((prefix, "-" if value is None else str(value)))


def _provenance(summary: Summary) -> list[tuple[str, str]]:
    run = summary.run
    out: list[tuple[str, str]] = [
        ("run", str(run.get("id"))),
        ("status", str(run.get("status"))),
        ("started", str(run.get("started"))),
        ("finished", str(run.get("finished"))),
        ("dataset", summary.dataset),
    ]
    _flatten("subset", summary.subset, out)
    _flatten("", run.get("provenance", {}), out)
    _flatten("options", run.get("plan", {}).get("options", {}), out)
    return out


def _identities(summary: Summary) -> dict[str, Any]:
    rows = [
        [c.model, c.label, c.key, c.threat_id, c.status, f"{c.units_done}/{c.n_units}", c.backend or "-"]
        for c in summary.cells
    ]
    return {"columns": ["model", "threat", "cell key", "threat identity", "status", "units", "backend"], "rows": rows}
