"""Built-in plugin: the terminal, markdown, csv, json and html reporters, and the per-sample exports."""

from __future__ import annotations

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import ReporterSpec

__all__ = ["lkadv_register_reporters"]

_M = "lkadv.reporters._formats"
_S = "lkadv.reporters._samples"


@hookimpl
def lkadv_register_reporters(registry: Registry[ReporterSpec]) -> None:
    """Register the built-in formats."""
    registry.register(
        ReporterSpec(
            name="terminal", render=f"{_M}:render_terminal", suffix=".txt", description="the rich table as plain text"
        )
    )
    registry.register(
        ReporterSpec(
            name="md", render=f"{_M}:render_markdown", suffix=".md", description="markdown table with footnotes"
        )
    )
    registry.register(
        ReporterSpec(
            name="csv", render=f"{_M}:render_csv", suffix=".csv", description="one row per cell, with 95% intervals"
        )
    )
    registry.register(
        ReporterSpec(
            name="json", render=f"{_M}:render_json", suffix=".json", description="the whole summary with provenance"
        )
    )
    registry.register(
        ReporterSpec(
            name="html",
            render="lkadv.reporters._html:render_html",
            suffix=".html",
            description="one self-contained page: figures, sortable tables, provenance (no network)",
        )
    )
    for name, render, suffix, what in (
        ("jsonl", "render_jsonl", ".jsonl", "one JSON line per (cell, sample)"),
        ("samples-csv", "render_samples_csv", ".csv", "one CSV row per (cell, sample)"),
        ("parquet", "render_parquet", ".parquet", "one row per (cell, sample), Parquet (needs pyarrow; -o FILE)"),
    ):
        registry.register(
            ReporterSpec(name=name, render=f"{_S}:{render}", suffix=suffix, description=what, per_sample=True)
        )
