"""Outside text (model names, plugin descriptions, errors) written safely into each format."""

from __future__ import annotations

from typing import Any

__all__ = ["csv_cell"]

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV field that a spreadsheet shows as text: strings that could start a formula get a leading quote.

    Numbers are left alone (a negative margin stays a number).
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
