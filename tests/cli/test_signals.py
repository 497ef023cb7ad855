"""Signals and kills: finished units are kept, the run is marked, the resume command is printed, records are exact."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main
from lkadv.store import Ledger

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["run", "-m", "tag:toy", "-d", "toy", "-a", "pgd", "--shard-size", "25", "-q"]
TOTAL = 2 * 4 * 16  # models x (clean + 3 eps) x shards of 25 of the 400 samples


def _start(run_dir: Path, pause_after: int | None = None, marker: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pause_after is not None and marker is not None:
        env |= {"LKADV_TOY_PAUSE_AFTER": str(pause_after), "LKADV_TOY_PAUSE_MARKER": str(marker)}
    return subprocess.Popen(
        [sys.executable, "-m", "lkadv", "-p", "tests.toy_plugin", *ARGS, "--run-dir", str(run_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    while not path.exists() and proc.poll() is None:  # an event, never a clock
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[1]


def _units(run_dir: Path) -> int:
    with sqlite3.connect(f"file:{run_dir / 'ledger.sqlite'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM units").fetchone()[0]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")])
def test_a_signal_keeps_finished_units_marks_the_run_and_prints_the_resume_command(tmp_path, sig, code, name):
    run_dir, marker = tmp_path / "run", tmp_path / "paused"
    proc = _start(run_dir, pause_after=7, marker=marker)
    _wait_for(marker, proc)
    proc.send_signal(sig)
    out, err = proc.communicate()
    assert proc.returncode == code, err
    assert f"interrupted by {name}" in err and f"lkadv run --resume --run-dir {run_dir}" in err
    assert "toy-0" in out  # the partial matrix is printed
    assert _units(run_dir) == 7
    with Ledger(run_dir) as ledger:
        assert ledger.run()["status"] == "interrupted"
    resumed = CliRunner().invoke(main, ["-p", "tests.toy_plugin", *ARGS, "--run-dir", str(run_dir)])
    assert resumed.exit_code == 0 and _units(run_dir) == TOTAL
    assert f"{TOTAL - 7} units computed, 7 reused" in resumed.output  # only what was missing


def _export(run_dir: Path) -> dict:
    """The JSON export without what legitimately differs between two runs: timings, timestamps, run ids."""
    text = CliRunner().invoke(main, ["-p", "tests.toy_plugin", "report", str(run_dir), "-f", "json"]).output
    data = json.loads(text)
    data.pop("run")
    for cell in data["cells"]:
        cell.pop("seconds")
        for stage in cell["info"].get("stages", []):
            stage.pop("seconds", None)
    text = json.dumps(data, sort_keys=True)
    return json.loads(re.sub(r'"seconds": [0-9.e-]+', '"seconds": 0', text))


@pytest.mark.slow
def test_kill_9_soak_gives_the_uninterrupted_record(tmp_path):
    clean_dir = tmp_path / "clean"
    clean = _start(clean_dir)
    clean.communicate()
    assert clean.returncode == 0
    killed_dir = tmp_path / "killed"
    rng = random.Random(0)
    points = sorted(rng.sample(range(1, TOTAL), 4))  # kill right after these commits
    for k in points:
        marker = tmp_path / f"paused-{k}"
        proc = _start(killed_dir, pause_after=k - _units(killed_dir) if killed_dir.exists() else k, marker=marker)
        _wait_for(marker, proc)
        children = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert _units(killed_dir) == k
        assert all(not Path(f"/proc/{c}").exists() or _zombie(c) for c in children)
        with Ledger(killed_dir) as ledger:
            assert ledger.run()["status"] == "interrupted"  # killed, not "running" for ever
    final = _start(killed_dir)
    final.communicate()
    assert final.returncode == 0 and _units(killed_dir) == TOTAL
    with sqlite3.connect(killed_dir / "ledger.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _export(killed_dir) == _export(clean_dir)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_reading_a_run_works_on_a_read_only_copy_and_never_writes(tmp_path):
    run_dir = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        ["-p", "tests.toy_plugin", "run", "-m", "toy-0", "-d", "toy", "--limit", "20", "--run-dir", str(run_dir), "-q"],
    )
    assert res.exit_code == 0, res.output
    before = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    for p in run_dir.iterdir():
        p.chmod(0o444)
    run_dir.chmod(0o555)
    try:
        for fmt in ("terminal", "json", "jsonl"):
            out = CliRunner().invoke(main, ["report", str(run_dir), "-f", fmt])
            assert out.exit_code == 0, out.output
    finally:
        run_dir.chmod(0o755)
    after = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    assert after == before
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "ledger.sqlite").write_bytes(b"")
    out = CliRunner().invoke(main, ["report", str(empty)])
    assert out.exit_code == 2 and (empty / "ledger.sqlite").read_bytes() == b""


def test_a_killed_writers_wal_is_read_without_writing_next_to_it(tmp_path):
    run_dir, marker = tmp_path / "run", tmp_path / "paused"
    proc = _start(run_dir, pause_after=6, marker=marker)
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    names = sorted(p.name for p in run_dir.iterdir())
    assert "ledger.sqlite-wal" in names  # commits left in the WAL by the killed writer
    rows = CliRunner().invoke(main, ["-p", "tests.toy_plugin", "report", str(run_dir), "-f", "jsonl"]).output
    assert len(rows.splitlines()) == 6 * 25  # every committed unit is read
    assert sorted(p.name for p in run_dir.iterdir()) == names
