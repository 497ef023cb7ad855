"""Reporters: the run table in every format, and live progress."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv._text import printable
    from lkadv.reporters._compare import Comparison, compare_runs, identity_diff
    from lkadv.reporters._compare_formats import COMPARE_FORMATS, render_comparison
    from lkadv.reporters._escape import as_text
    from lkadv.reporters._figures import Plot, family_colours, plots, to_png, to_svg, write_plots
    from lkadv.reporters._formats import (
        render_csv,
        render_json,
        render_markdown,
        render_terminal,
        rich_table,
        rich_tables,
    )
    from lkadv.reporters._gallery import Example, gallery_items
    from lkadv.reporters._html import render_html
    from lkadv.reporters._live import LiveProgress, PlainProgress, make_progress
    from lkadv.reporters._saved import saved_examples
    from lkadv.reporters._sections import interval_text, pair_section, per_class_section
    from lkadv.reporters._tables import cell_text, footnotes, main_table

__all__ = [
    "COMPARE_FORMATS",
    "Comparison",
    "Example",
    "LiveProgress",
    "PlainProgress",
    "Plot",
    "as_text",
    "cell_text",
    "compare_runs",
    "family_colours",
    "footnotes",
    "gallery_items",
    "identity_diff",
    "interval_text",
    "main_table",
    "make_progress",
    "pair_section",
    "per_class_section",
    "plots",
    "printable",
    "render_comparison",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_terminal",
    "rich_table",
    "rich_tables",
    "saved_examples",
    "to_png",
    "to_svg",
    "write_plots",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Comparison": "lkadv.reporters._compare",
        "compare_runs": "lkadv.reporters._compare",
        "identity_diff": "lkadv.reporters._compare",
        "COMPARE_FORMATS": "lkadv.reporters._compare_formats",
        "render_comparison": "lkadv.reporters._compare_formats",
        "as_text": "lkadv.reporters._escape",
        "printable": "lkadv._text",
        "render_csv": "lkadv.reporters._formats",
        "render_json": "lkadv.reporters._formats",
        "render_markdown": "lkadv.reporters._formats",
        "render_terminal": "lkadv.reporters._formats",
        "rich_table": "lkadv.reporters._formats",
        "rich_tables": "lkadv.reporters._formats",
        "Plot": "lkadv.reporters._figures",
        "family_colours": "lkadv.reporters._figures",
        "plots": "lkadv.reporters._figures",
        "to_png": "lkadv.reporters._figures",
        "to_svg": "lkadv.reporters._figures",
        "write_plots": "lkadv.reporters._figures",
        "interval_text": "lkadv.reporters._sections",
        "pair_section": "lkadv.reporters._sections",
        "per_class_section": "lkadv.reporters._sections",
        "Example": "lkadv.reporters._gallery",
        "gallery_items": "lkadv.reporters._gallery",
        "saved_examples": "lkadv.reporters._saved",
        "render_html": "lkadv.reporters._html",
        "LiveProgress": "lkadv.reporters._live",
        "PlainProgress": "lkadv.reporters._live",
        "make_progress": "lkadv.reporters._live",
        "cell_text": "lkadv.reporters._tables",
        "main_table": "lkadv.reporters._tables",
        "footnotes": "lkadv.reporters._tables",
    },
)
