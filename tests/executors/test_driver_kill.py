"""Killing the driver of a processes run: its workers go, and the next run resumes with what was committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["run", "-m", "tag:toy", "-d", "toy", "-a", "pgd", "--shard-size", "100", "-q"]
TOTAL = 2 * 4 * 4  # models x (clean + 3 eps) x shards


def _units(run_dir: Path) -> int:
    with sqlite3.connect(f"file:{run_dir / 'ledger.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM units").fetchone()[0])


def _lkadv(run_dir: Path, env: dict[str, str], executor: str = "processes") -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "lkadv", "-p", "tests.toy_plugin", *ARGS, "--run-dir", str(run_dir)]
    command += ["--executor", executor, "--devices", "cpu,cpu"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]), **env}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_killed_driver_is_resumed_by_the_next_run(tmp_path: Path) -> None:
    run_dir, marker = tmp_path / "run", tmp_path / "paused"
    # The toy plugin's lkadv_unit_finished hook (it runs in the driver) stops it after 5 commits.
    proc = _lkadv(run_dir, {"LKADV_TOY_PAUSE_AFTER": "5", "LKADV_TOY_PAUSE_MARKER": str(marker)})
    while not marker.exists() and proc.poll() is None:  # an event, never a clock
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert _units(run_dir) == 5
    again = _lkadv(run_dir, {})
    _, err = again.communicate()
    assert again.returncode == 0, err
    assert _units(run_dir) == TOTAL
    # The same job uninterrupted, by the local executor through the same command.
    local = _lkadv(tmp_path / "local", {}, "local")
    assert local.communicate() and local.returncode == 0
    assert _table(run_dir) == _table(tmp_path / "local")
    assert _statuses(run_dir) == ["interrupted", "done"]


def _table(run_dir: Path) -> dict[tuple[str, str], list[tuple[int, int, int]]]:
    """Per-sample (correct, pred, attacked) by (model, threat label) of the latest run."""
    from lkadv.store import Ledger

    with Ledger(run_dir) as ledger:
        run_id = ledger.runs()[-1]["id"]
        return {
            (c.model, c.threat_label): [
                (int(a), int(b), int(d)) for a, b, d in zip(o.correct, o.pred, o.attacked, strict=True)
            ]
            for c in ledger.cells(run_id)
            for o in [ledger.outcomes(c.key)]
        }


def _statuses(run_dir: Path) -> list[str]:
    from lkadv.store import Ledger

    with Ledger(run_dir) as ledger:
        return [r["status"] for r in ledger.runs()]
