"""Reporters: the run table in every format, and live progress."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv._text import printable
    from lkadv.reporters._escape import as_text
    from lkadv.reporters._formats import (
        render_csv,
        render_json,
        render_markdown,
        render_terminal,
        rich_table,
        rich_tables,
    )
    from lkadv.reporters._live import LiveProgress, PlainProgress, make_progress
    from lkadv.reporters._tables import cell_text, footnotes, main_table

__all__ = [
    "LiveProgress",
    "PlainProgress",
    "as_text",
    "cell_text",
    "footnotes",
    "main_table",
    "make_progress",
    "printable",
    "render_csv",
    "render_json",
    "render_markdown",
    "render_terminal",
    "rich_table",
    "rich_tables",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "as_text": "lkadv.reporters._escape",
        "printable": "lkadv._text",
        "render_csv": "lkadv.reporters._formats",
        "render_json": "lkadv.reporters._formats",
        "render_markdown": "lkadv.reporters._formats",
        "render_terminal": "lkadv.reporters._formats",
        "rich_table": "lkadv.reporters._formats",
        "rich_tables": "lkadv.reporters._formats",
        "LiveProgress": "lkadv.reporters._live",
        "PlainProgress": "lkadv.reporters._live",
        "make_progress": "lkadv.reporters._live",
        "cell_text": "lkadv.reporters._tables",
        "main_table": "lkadv.reporters._tables",
        "footnotes": "lkadv.reporters._tables",
    },
)
