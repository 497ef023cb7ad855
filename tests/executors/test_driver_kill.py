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

from tests.executors.scale_helpers import per_sample, same_arrays, toy_run

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["run", "-m", "tag:toy", "-d", "toy", "-a", "pgd", "--shard-size", "100", "-q"]
TOTAL = 2 * 4 * 4  # models x (clean + 3 eps) x shards


def _units(run_dir: Path) -> int:
    with sqlite3.connect(f"file:{run_dir / 'ledger.sqlite'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM units").fetchone()[0])


def _lkadv(run_dir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "lkadv", "-p", "tests.toy_plugin", *ARGS, "--run-dir", str(run_dir)]
    command += ["--executor", "processes", "--devices", "cpu,cpu"]
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
    out, err = again.communicate()
    assert again.returncode == 0, err
    assert _units(run_dir) == TOTAL
    reference = per_sample(toy_run(tmp_path / "local", "toy-0,toy-1"))
    from lkadv.store import Ledger

    with Ledger(run_dir) as ledger:
        runs = ledger.runs()
    assert [r["status"] for r in runs][-1] == "done"
    resumed = toy_run(run_dir, "toy-0,toy-1", "processes", devices="cpu,cpu")
    assert (resumed.computed_units, resumed.reused_units) == (0, TOTAL)
    assert same_arrays(per_sample(resumed), reference) == []
