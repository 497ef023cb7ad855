"""The analyses' store: one row per finished unit, keyed by everything that can change it.

It lives in the run directory beside the ledger (``analyses.sqlite``), so an
analysis never waits on, or locks, a benchmark run writing ``ledger.sqlite``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lkadv.errors import StoreError

__all__ = ["AnalysisStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS analysis_units (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, analysis TEXT NOT NULL, unit TEXT NOT NULL,
    identity TEXT NOT NULL, result TEXT NOT NULL, seconds REAL NOT NULL, created REAL NOT NULL
);
"""


class AnalysisStore:
    """SQLite store of unit results (WAL; each unit committed on its own).

    Args:
        run_dir: The run directory (created if missing).

    Raises:
        StoreError: If the store cannot be opened.
    """

    FILE = "analyses.sqlite"

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / self.FILE
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the analyses store {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> AnalysisStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _select(self, columns: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
        wanted = list(keys)
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            # Only "?" placeholders are formatted in; the keys travel as parameters.
            query = f"SELECT {columns} FROM analysis_units WHERE key IN ({','.join('?' * len(chunk))})"  # noqa: S608
            rows += self.db.execute(query, chunk).fetchall()
        return rows

    def done(self, keys: Iterable[str]) -> set[str]:
        """The keys already stored."""
        return {r[0] for r in self._select("key", keys)}

    def put(
        self,
        key: str,
        model: str,
        analysis: str,
        unit: str,
        identity: dict[str, Any],
        result: dict[str, Any],
        seconds: float,
    ) -> None:
        """Store one finished unit (committed before returning)."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO analysis_units VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key,
                    model,
                    analysis,
                    unit,
                    json.dumps(identity, sort_keys=True),
                    json.dumps(result),
                    seconds,
                    time.time(),
                ),
            )

    def results(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored results by key."""
        return {k: json.loads(r) for k, r in self._select("key, result", keys)}
