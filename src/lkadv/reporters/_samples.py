"""Per-sample exports: JSON lines, CSV, and Parquet when pyarrow is installed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from lkadv.errors import ConfigError
from lkadv.reporters._escape import csv_cell
from lkadv.store import SAMPLE_COLUMNS

__all__ = ["render_jsonl", "render_parquet", "render_samples_csv"]


def render_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    """One JSON object a line (``pandas.read_json(path, lines=True)``)."""
    return "".join(json.dumps(row, allow_nan=False) + "\n" for row in rows)


def render_samples_csv(rows: Iterable[dict[str, Any]]) -> str:
    """One CSV row per (cell, sample), with a header (``pandas.read_csv``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for row in rows:
        writer.writerow(["" if row[c] is None else csv_cell(row[c]) for c in SAMPLE_COLUMNS])
    return buf.getvalue()


def render_parquet(rows: Iterable[dict[str, Any]]) -> bytes:
    """A Parquet file of the rows (``pandas.read_parquet``).

    Raises:
        ConfigError: If pyarrow is not installed (naming the formats that need nothing).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ConfigError(
            "the parquet format needs pyarrow (pip install pyarrow); "
            "--format jsonl or --format samples-csv need nothing more"
        ) from exc
    columns: dict[str, list[Any]] = {c: [] for c in SAMPLE_COLUMNS}
    for row in rows:
        for c in SAMPLE_COLUMNS:
            columns[c].append(row[c])
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()
