"""Outside text (model names, plugin descriptions, errors) written safely into each format.

Names, families, descriptions, errors and report sections come from plugins and
users. They are shown as the text they are: never as rich markup (``[bold]``,
``[link=...]``), never as terminal control sequences (ANSI escapes), never as
markdown table structure (``|``, newlines), never as spreadsheet formulas.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from lkadv._text import printable

__all__ = ["as_text", "csv_cell", "md_cell"]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def as_text(value: Any, style: str = "") -> Text:
    """A rich ``Text`` of outside text: markup is not parsed, control characters are shown escaped."""
    return Text(printable(value), style=style)


def md_cell(value: Any) -> str:
    """A markdown table cell: ``|`` escaped, ``<`` as ``&lt;`` (no HTML tag), line breaks folded, controls shown."""
    text = printable(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    return text.replace("<", "&lt;")


def csv_cell(value: Any) -> Any:
    """A CSV field that a spreadsheet shows as text: strings that could start a formula get a leading quote.

    Numbers are left alone (a negative margin stays a number).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
