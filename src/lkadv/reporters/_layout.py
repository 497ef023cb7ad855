"""Tables that fit the terminal: wide tables are split into column groups, never cut with an ellipsis.

A model x threat matrix can have dozens of threat columns. Rich squeezes a table
that is too wide by shrinking columns, which cuts names to ``mod…`` and values to
``…``. Instead, the columns after the key columns are packed greedily into groups
that fit the width, and each group is printed as its own table with the key
columns repeated: every name and value stays whole at 80 columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["split_table"]

# A rich table with the default box spends one character of padding on each side
# of a cell and one for each vertical line (plus the table's left edge).
_PER_COLUMN = 3


def _width(texts: Sequence[Text]) -> int:
    return max((max((len(line) for line in t.plain.split("\n")), default=0) for t in texts), default=0)


def _groups(widths: Sequence[int], budget: int) -> list[list[int]]:
    groups: list[list[int]] = [[]]
    used = 0
    for i, w in enumerate(widths):
        if groups[-1] and used + w + _PER_COLUMN > budget:
            groups.append([])
            used = 0
        groups[-1].append(i)
        used += w + _PER_COLUMN
    return groups


def split_table(
    title: Text,
    header: Sequence[Text],
    rows: Sequence[Sequence[Text]],
    *,
    keys: int,
    width: int | None,
    key_style: Sequence[str] = (),
) -> list[RenderableType]:
    """One table, or several with the first ``keys`` columns repeated, each fitting ``width`` characters.

    Args:
        title: Title of the first table (later ones say they continue it).
        header: Column headers.
        rows: Cells, each row as long as ``header``.
        keys: Leading columns repeated in every part (model, family...).
        width: Characters available (None: no limit).
        key_style: Styles of the key columns.

    Returns:
        The titles (as lines of text) and tables to print, in order.
    """
    columns = list(range(keys, len(header)))
    widths = [_width([header[c], *(r[c] for r in rows)]) for c in columns]
    key_width = 1 + sum(_width([header[c], *(r[c] for r in rows)]) + _PER_COLUMN for c in range(keys))
    groups = [columns] if width is None else [[columns[i] for i in g] for g in _groups(widths, width - key_width)]
    out: list[RenderableType] = []
    for n, group in enumerate(groups):
        part = title if n == 0 else Text(f"continued ({n + 1} of {len(groups)})", style=title.style)
        if part.plain:  # a line of its own: a table's title would wrap at the table's width
            out.append(part)
        table = Table(header_style="bold")
        for c in range(keys):
            style = key_style[c] if c < len(key_style) else ""
            table.add_column(header[c], style=style, no_wrap=True, overflow="fold")
        for c in group:
            table.add_column(header[c], justify="right", no_wrap=True, overflow="fold")
        for row in rows:
            table.add_row(*(row[c] for c in range(keys)), *(row[c] for c in group))
        out.append(table)
    return out
