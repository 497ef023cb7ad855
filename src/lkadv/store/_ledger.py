"""The run ledger: one SQLite database (WAL) per run directory.

Cells are content-addressed (their key hashes the fully resolved spec), so any
run that needs a cell another run finished reuses it. A unit's per-sample
outcomes, its unit row and its cell's status are written in one transaction:
after a crash or ``kill -9`` a unit is either entirely there or not at all.
Only the driver process writes; a lock file keeps two drivers apart.

A unit made of stages (AutoAttack's sub-attacks, a worst-of ensemble) may
also leave a progress row after each finished stage: the per-sample flags so
far. A rerun resumes that unit at its next stage; committing the unit deletes
the row in the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lkadv.errors import StoreError
from lkadv.store._schema import LEDGER_FILE, SCHEMA, SCHEMA_VERSION, CellRow
from lkadv.types import Outcomes

__all__ = ["Ledger"]


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Ledger:
    """Access to a run directory's ledger.

    Args:
        run_dir: The run directory.
        create: Create the directory and database if missing (else they must exist).
        lock: Take the run directory's writer lock (held until :meth:`close`).
        readonly: Open for reading only (never writes, works on a read-only copy);
            the default when neither ``create`` nor ``lock`` is asked for.

    Raises:
        StoreError: If the ledger is missing, unreadable, of a newer schema, or locked.
    """

    def __init__(
        self, run_dir: Path, *, create: bool = False, lock: bool = False, readonly: bool | None = None
    ) -> None:
        self.run_dir = run_dir
        self.path = run_dir / LEDGER_FILE
        self._lock_fh: Any = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.readonly = not (create or lock) if readonly is None else readonly
        if not self.path.is_file():
            if not create:
                raise StoreError(f"{run_dir} is not a run directory (no {LEDGER_FILE}); give the folder of a run")
            self._make_dir()
        if lock:
            self._take_lock()
        try:
            self.db = self._read_only() if self.readonly else self._writable()
            row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if row is None and self.readonly:
                raise StoreError(f"{self.path} holds no lkadv ledger (no schema); give the folder of a run")
            if row is None:
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer lkadv (schema {row[0]}); upgrade lkadv")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path} is not a readable lkadv ledger: {exc}") from exc
        except StoreError:
            self.close()
            raise

    def _make_dir(self) -> None:
        if self.run_dir.exists() and not self.run_dir.is_dir():
            raise StoreError(f"run directory {self.run_dir} exists and is not a folder; give another --run-dir")
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a parent is a file, no permission, read-only file system
            raise StoreError(
                f"cannot create run directory {self.run_dir}: {exc.strerror or exc}; give another --run-dir"
            ) from exc

    def _writable(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # a finished unit survives power loss, not just kill -9
            db.execute("PRAGMA foreign_keys=ON")
            db.executescript(SCHEMA)
        except sqlite3.OperationalError as exc:
            db.close()
            if "readonly" in str(exc) or "read-only" in str(exc):
                raise StoreError(
                    f"{self.path} cannot be written ({exc}); run in a writable --run-dir "
                    "(reading it with `lkadv report` works)"
                ) from exc
            raise
        return db

    def _read_only(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        if self._writer_alive():
            # A run is writing: share its WAL index to see its commits consistently.
            return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, isolation_level=None)
        wal = self.path.with_name(self.path.name + "-wal")
        if wal.is_file() and wal.stat().st_size > 0:
            # A killed writer left commits in its WAL file. Reading them in place would
            # create SQLite's index file next to it: read a private copy instead.
            return self._private_copy(wal)
        # Nobody writes: read the file as it is, creating nothing next to it (a read-only
        # copy has no room for SQLite's -shm/-wal files, and a reader must not leave any).
        return sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)

    def _private_copy(self, wal: Path) -> sqlite3.Connection:
        self._tmp = tempfile.TemporaryDirectory(prefix="lkadv-ledger-")
        copy = Path(self._tmp.name) / LEDGER_FILE
        shutil.copyfile(self.path, copy)
        shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        return sqlite3.connect(copy, isolation_level=None)

    def _take_lock(self) -> None:
        lock_path = self.run_dir / ".lock"
        fh = lock_path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreError(
                f"run directory {self.run_dir} is in use by {holder}; wait for it or use another --run-dir"
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        self._lock_fh = fh

    def close(self) -> None:
        """Close the database and release the lock."""
        db = getattr(self, "db", None)
        if db is not None:
            db.close()
            self.db = None  # type: ignore[assignment]
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------- runs

    def _writer_alive(self) -> bool:
        """Whether a process holds this run directory's writer lock (this one included)."""
        if self._lock_fh is not None:
            return True
        try:
            fh = (self.run_dir / ".lock").open("r")
        except OSError:
            return False
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
            return False

    def start_run(self, plan: dict[str, Any], provenance: dict[str, Any]) -> int:
        """Record a new run; returns its id.

        Runs still marked ``running`` were killed (the caller holds the writer
        lock, so none is alive): they are marked ``interrupted``.
        """
        with self._tx() as db:
            if self._lock_fh is not None:
                db.execute("UPDATE runs SET status='interrupted' WHERE status='running'")
            cur = db.execute(
                "INSERT INTO runs (started, status, plan, provenance) VALUES (?, 'running', ?, ?)",
                (_now(), json.dumps(plan, default=str), json.dumps(provenance, default=str)),
            )
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, status: str) -> None:
        """Mark a run ``done``, ``failed`` or ``interrupted``."""
        with self._tx() as db:
            db.execute("UPDATE runs SET finished=?, status=? WHERE id=?", (_now(), status, run_id))

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first."""
        rows = self.db.execute(
            "SELECT id, started, finished, status, plan, provenance FROM runs ORDER BY id"
        ).fetchall()
        # A run marked running with no process holding the lock was killed (kill -9, power loss).
        stale = any(r[3] == "running" for r in rows) and not self._writer_alive()
        return [
            {
                "id": r[0],
                "started": r[1],
                "finished": r[2],
                "status": "interrupted" if stale and r[3] == "running" else r[3],
                "plan": json.loads(r[4]),
                "provenance": json.loads(r[5]),
            }
            for r in rows
        ]

    def run(self, run_id: int | None = None) -> dict[str, Any]:
        """One run (the latest if ``run_id`` is None).

        Raises:
            StoreError: If there is no such run.
        """
        runs = self.runs()
        if not runs:
            raise StoreError(f"{self.run_dir} holds no runs yet")
        if run_id is None:
            return runs[-1]
        for r in runs:
            if r["id"] == run_id:
                return r
        raise StoreError(f"{self.run_dir} has no run {run_id}; runs are {[r['id'] for r in runs]}")

    # ------------------------------------------------------------------ cells

    def add_subset(self, digest: str, ids: Sequence[str], rule: str, total: int) -> None:
        """Store a subset's sample ids once."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO subsets VALUES (?, ?, ?, ?)", (digest, json.dumps(list(ids)), rule, total)
            )

    def add_subset_labels(self, digest: str, labels: Sequence[int]) -> None:
        """Store the true labels of a subset's samples (in the dataset's label space), once."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO subset_labels VALUES (?, ?)", (digest, json.dumps([int(v) for v in labels]))
            )

    def subset_labels(self, digest: str) -> list[int] | None:
        """True labels of a stored subset's samples, or None (ledgers written before they were stored)."""
        row = self.db.execute("SELECT labels FROM subset_labels WHERE digest=?", (digest,)).fetchone()
        return json.loads(row[0]) if row else None

    def units(self, cell_key: str) -> list[dict[str, Any]]:
        """Each finished unit of a cell, by shard: ``shard``, ``start``, ``stop``, ``seconds`` and ``info``."""
        rows = self.db.execute(
            "SELECT shard, start, stop, seconds, info FROM units WHERE cell_key=? ORDER BY shard", (cell_key,)
        )
        return [{"shard": r[0], "start": r[1], "stop": r[2], "seconds": r[3], "info": json.loads(r[4])} for r in rows]

    def subset_ids(self, digest: str) -> list[str]:
        """Sample ids of a stored subset."""
        row = self.db.execute("SELECT ids FROM subsets WHERE digest=?", (digest,)).fetchone()
        return json.loads(row[0]) if row else []

    def add_cells(self, run_id: int, cells: Iterable[dict[str, Any]]) -> None:
        """Insert cells not yet known and link all of them to the run, in plan order.

        Args:
            run_id: The run.
            cells: Dicts with the columns of ``cells`` (``threat`` and ``spec`` as dicts).
        """
        with self._tx() as db:
            for position, c in enumerate(cells):
                db.execute(
                    "INSERT OR IGNORE INTO cells (key, model, family, dataset, threat_kind, threat_name, threat_id,"
                    " threat_label, threat, spec, subset, n_samples, n_units, seed, created)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c["key"],
                        c["model"],
                        c["family"],
                        c["dataset"],
                        c["threat_kind"],
                        c["threat_name"],
                        c["threat_id"],
                        c["threat_label"],
                        json.dumps(c["threat"], default=str),
                        json.dumps(c["spec"], default=str),
                        c["subset"],
                        c["n_samples"],
                        c["n_units"],
                        c["seed"],
                        _now(),
                    ),
                )
                db.execute("INSERT OR IGNORE INTO run_cells VALUES (?, ?, ?)", (run_id, c["key"], position))

    def set_cell_info(self, key: str, info: dict[str, Any]) -> None:
        """Merge facts into a cell's info (e.g. the model's merge check)."""
        with self._tx() as db:
            row = db.execute("SELECT info FROM cells WHERE key=?", (key,)).fetchone()
            merged = {**(json.loads(row[0]) if row else {}), **info}
            db.execute("UPDATE cells SET info=? WHERE key=?", (json.dumps(merged, default=str), key))

    def cell_info(self, key: str) -> dict[str, Any]:
        """A cell's recorded info (empty for an unknown cell)."""
        row = self.db.execute("SELECT info FROM cells WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else {}

    def cells(self, run_id: int) -> list[CellRow]:
        """The cells of a run, in plan order."""
        rows = self.db.execute(
            "SELECT c.key, c.model, c.family, c.dataset, c.threat_kind, c.threat_name, c.threat_id, c.threat_label,"
            " c.threat, c.spec, c.n_samples, c.n_units, c.status, c.seconds, c.info,"
            " (SELECT COUNT(*) FROM units u WHERE u.cell_key = c.key)"
            " FROM run_cells rc JOIN cells c ON c.key = rc.cell_key WHERE rc.run_id=? ORDER BY rc.position",
            (run_id,),
        )
        return [
            CellRow(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                json.loads(r[8]),
                json.loads(r[9]),
                r[10],
                r[11],
                r[12],
                r[13],
                r[15],
                json.loads(r[14]),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ units

    def done_units(self, keys: Iterable[str] | None = None) -> set[tuple[str, int]]:
        """``(cell_key, shard)`` of every finished unit (of the given cells)."""
        if keys is None:
            return {(k, s) for k, s in self.db.execute("SELECT cell_key, shard FROM units")}
        wanted = set(keys)
        return {(k, s) for k, s in self.db.execute("SELECT cell_key, shard FROM units") if k in wanted}

    def commit_unit(
        self,
        cell_key: str,
        shard: int,
        start: int,
        outcomes: Outcomes,
        *,
        seconds: float,
        run_id: int,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Store a finished unit atomically and update its cell's status.

        Args:
            cell_key: The unit's cell.
            shard: Shard number.
            start: Subset index of the shard's first sample.
            outcomes: Per-sample results of the shard.
            seconds: Compute time of the unit.
            run_id: Run that computed it.
            info: Facts about the unit (attacked count...).
        """
        rows = [
            (cell_key, start + i, int(c), int(p), None if np.isnan(m) else float(m), int(a))
            for i, (c, p, m, a) in enumerate(
                zip(outcomes.correct, outcomes.pred, outcomes.margin, outcomes.attacked, strict=True)
            )
        ]
        extra_rows = [
            (cell_key, start + i, json.dumps({k: v[i].tolist() for k, v in outcomes.extras.items()}))
            for i in range(len(outcomes))
        ]
        with self._tx() as db:
            db.executemany("INSERT OR REPLACE INTO outcomes VALUES (?, ?, ?, ?, ?, ?)", rows)
            if outcomes.extras:
                db.executemany("INSERT OR REPLACE INTO extras VALUES (?, ?, ?)", extra_rows)
            db.execute("DELETE FROM unit_progress WHERE cell_key=? AND shard=?", (cell_key, shard))
            db.execute(
                "INSERT OR REPLACE INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (cell_key, shard, start, start + len(outcomes), seconds, _now(), run_id, json.dumps(info or {})),
            )
            done, total = db.execute(
                "SELECT (SELECT COUNT(*) FROM units WHERE cell_key=?), n_units FROM cells WHERE key=?",
                (cell_key, cell_key),
            ).fetchone()
            status = "done" if done >= total else "partial"
            db.execute(
                "UPDATE cells SET status=?, seconds=seconds+?, finished=CASE WHEN ?='done' THEN ? ELSE finished END"
                " WHERE key=?",
                (status, seconds, status, _now(), cell_key),
            )

    def save_progress(self, cell_key: str, shard: int, stages_done: int, state: dict[str, Any]) -> None:
        """Record a unit's per-sample state after its first ``stages_done`` stages (replaces the last one).

        Args:
            cell_key: The unit's cell.
            shard: Shard number.
            stages_done: Stages finished.
            state: JSON-ready per-sample flags and facts needed to go on.
        """
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO unit_progress VALUES (?, ?, ?, ?, ?)",
                (cell_key, shard, stages_done, json.dumps(state), _now()),
            )

    def progress(self, cell_key: str, shard: int) -> tuple[int, dict[str, Any]] | None:
        """``(stages_done, state)`` of an unfinished staged unit, or None."""
        row = self.db.execute(
            "SELECT stages_done, state FROM unit_progress WHERE cell_key=? AND shard=?", (cell_key, shard)
        ).fetchone()
        return (int(row[0]), json.loads(row[1])) if row else None

    def correct_counts(self, keys: Iterable[str]) -> dict[str, tuple[int, int]]:
        """``(correct, stored samples)`` of each given cell that has stored outcomes, counted in SQL."""
        wanted = set(keys)
        rows = self.db.execute("SELECT cell_key, SUM(correct), COUNT(*) FROM outcomes GROUP BY cell_key")
        return {k: (int(c), int(n)) for k, c, n in rows if k in wanted}

    def stages_done(self, cell_key: str) -> tuple[int, int] | None:
        """For a cell with an interrupted staged unit: ``(stages done, stages)`` of its most advanced one."""
        rows = self.db.execute("SELECT stages_done, state FROM unit_progress WHERE cell_key=?", (cell_key,))
        best = None
        for done, state in rows:
            total = int(json.loads(state).get("of", 0))
            if best is None or done > best[0]:
                best = (int(done), total)
        return best

    def unit_infos(self, cell_key: str) -> list[dict[str, Any]]:
        """The ``info`` of each finished unit of a cell, by shard."""
        rows = self.db.execute("SELECT info FROM units WHERE cell_key=? ORDER BY shard", (cell_key,))
        return [json.loads(r[0]) for r in rows]

    def outcomes(self, cell_key: str, start: int = 0, stop: int | None = None) -> Outcomes:
        """Stored per-sample results of a cell between two subset indices."""
        stop = 2**62 if stop is None else stop
        rows = self.db.execute(
            "SELECT correct, pred, margin, attacked FROM outcomes WHERE cell_key=? AND idx>=? AND idx<? ORDER BY idx",
            (cell_key, start, stop),
        ).fetchall()
        if not rows:
            return Outcomes(np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, bool))
        arr = np.array([(r[0], r[1], np.nan if r[2] is None else r[2], r[3]) for r in rows], dtype=np.float64)
        extra_rows = self.db.execute(
            "SELECT data FROM extras WHERE cell_key=? AND idx>=? AND idx<? ORDER BY idx", (cell_key, start, stop)
        ).fetchall()
        extras: dict[str, np.ndarray] = {}
        if len(extra_rows) == len(rows):
            decoded = [json.loads(r[0]) for r in extra_rows]
            for name in decoded[0]:
                extras[name] = np.asarray([d[name] for d in decoded])
        return Outcomes(
            arr[:, 0].astype(bool),
            arr[:, 1].astype(np.int64),
            arr[:, 2].astype(np.float32),
            arr[:, 3].astype(bool),
            extras=extras,
        )
