"""The ledger's tables, and a cell as a row of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LEDGER_FILE", "SCHEMA", "SCHEMA_VERSION", "CellRow"]

LEDGER_FILE = "ledger.sqlite"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL,
    plan TEXT NOT NULL,
    provenance TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subsets (digest TEXT PRIMARY KEY, ids TEXT NOT NULL, rule TEXT NOT NULL, total INTEGER);
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    family TEXT NOT NULL,
    dataset TEXT NOT NULL,
    threat_kind TEXT NOT NULL,
    threat_name TEXT NOT NULL,
    threat_id TEXT NOT NULL,
    threat_label TEXT NOT NULL,
    threat TEXT NOT NULL,
    spec TEXT NOT NULL,
    subset TEXT NOT NULL,
    n_samples INTEGER NOT NULL,
    n_units INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    seconds REAL NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    finished TEXT,
    info TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS run_cells (
    run_id INTEGER NOT NULL, cell_key TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (run_id, cell_key)
);
CREATE TABLE IF NOT EXISTS units (
    cell_key TEXT NOT NULL, shard INTEGER NOT NULL, start INTEGER NOT NULL, stop INTEGER NOT NULL,
    seconds REAL NOT NULL, finished TEXT NOT NULL, run_id INTEGER, info TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (cell_key, shard)
);
CREATE TABLE IF NOT EXISTS unit_progress (
    cell_key TEXT NOT NULL, shard INTEGER NOT NULL, stages_done INTEGER NOT NULL, state TEXT NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (cell_key, shard)
);
CREATE TABLE IF NOT EXISTS outcomes (
    cell_key TEXT NOT NULL, idx INTEGER NOT NULL,
    correct INTEGER NOT NULL, pred INTEGER NOT NULL, margin REAL, attacked INTEGER NOT NULL,
    PRIMARY KEY (cell_key, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subset_labels (digest TEXT PRIMARY KEY, labels TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS extras (
    cell_key TEXT NOT NULL, idx INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (cell_key, idx)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class CellRow:
    """A cell as stored in the ledger.

    Attributes:
        key: Content hash.
        model: Model name.
        family: Model family.
        dataset: Dataset name.
        threat_kind: ``clean``, ``attack`` or ``corruption``.
        threat_name: Attack or corruption name.
        threat_id: Full threat identity.
        threat_label: Compact label.
        threat: Threat as a dict (config, eps, severity).
        spec: The resolved key material.
        n_samples: Samples in the cell.
        n_units: Units in the cell.
        status: ``pending``, ``partial`` or ``done``.
        seconds: Compute time spent so far.
        units_done: Finished units.
        info: Facts recorded while running (e.g. merge error of the model).
    """

    key: str
    model: str
    family: str
    dataset: str
    threat_kind: str
    threat_name: str
    threat_id: str
    threat_label: str
    threat: dict[str, Any]
    spec: dict[str, Any]
    n_samples: int
    n_units: int
    status: str
    seconds: float
    units_done: int
    info: dict[str, Any]
