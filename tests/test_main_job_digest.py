"""The numbers do not move: a stored digest of the main jobs' per-sample outcomes.

The main job is ``lkadv run --models all --attacks pgd`` (README) and the
embedded corruption run is ``lkadv run --models all --corruptions all`` (on
100 samples here, to keep the suite short), on the default Fashion-MNIST
subset. Each cell's per-sample correctness, prediction and attacked flag are
hashed; a refactor must leave every digest as stored.

When a number is meant to change, refresh the file and give the reason in the
commit and the closing note::

    LKADV_REFRESH_DIGEST=1 .venv/bin/python -m pytest -q tests/test_main_job_digest.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import Ledger, sample_rows

STORED = Path(__file__).parent / "data" / "main_job_digest.json"
JOBS = {
    "main-job": {"models": "all", "attacks": "pgd"},
    "corruptions": {"models": "all", "corruptions": "all", "limit": "100"},
}


def job_digests(options: dict[str, str], run_dir: Path) -> dict[str, str]:
    """Digest of each cell's per-sample outcomes, by ``model/threat label``."""
    # Built-in plugins only: "all" is the mini zoo, whatever else this environment has installed.
    host = PluginHost(entry_points=False)
    result = run(load_options({**options, "run_dir": run_dir}, env={}, config_file=None), host=host, progress=False)
    assert not result.failures, result.failures
    out = {}
    with Ledger(run_dir) as ledger:
        for cell in result.plan.cells:
            o = ledger.outcomes(cell.key)
            h = hashlib.sha256()
            for array in (o.correct.astype(np.bool_), o.pred.astype(np.int64), o.attacked.astype(np.bool_)):
                h.update(np.ascontiguousarray(array).tobytes())
            out[f"{cell.model.name}/{cell.threat.label}"] = h.hexdigest()
        # The per-sample export holds exactly cells x samples rows, and its counts are the report's.
        rows = list(sample_rows(ledger))
        assert len(rows) == len(result.plan.cells) * len(result.plan.subset)
        for summary_cell in result.summary.cells:
            mine = [r["correct"] for r in rows if r["cell"] == summary_cell.key]
            assert summary_cell.accuracy is not None
            assert (len(mine), sum(mine)) == (summary_cell.accuracy.n, summary_cell.accuracy.k)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("job", sorted(JOBS))
def test_per_sample_outcomes_equal_the_stored_digest(tmp_path: Path, job: str) -> None:
    digests = job_digests(JOBS[job], tmp_path / job)
    stored = json.loads(STORED.read_text()) if STORED.exists() else {}
    if os.environ.get("LKADV_REFRESH_DIGEST") == "1":
        stored[job] = digests
        STORED.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    assert job in stored, f"no stored digest for {job!r}: run with LKADV_REFRESH_DIGEST=1 (see the module docstring)"
    moved = sorted(k for k in stored[job].keys() | digests.keys() if stored[job].get(k) != digests.get(k))
    assert moved == [], f"per-sample outcomes moved in {len(moved)} cell(s): {moved[:10]}"


@pytest.mark.slow
def test_the_processes_executor_gives_the_main_jobs_outcomes(tmp_path: Path) -> None:
    # Issue 14's acceptance: two CPU workers in spawned processes, the same per-sample outcomes as the
    # local executor for every cell of the main job (the stored digest is the local executor's).
    options = {**JOBS["main-job"], "executor": "processes", "devices": "cpu,cpu"}
    digests = job_digests(options, tmp_path / "processes")
    stored = json.loads(STORED.read_text())["main-job"]
    moved = sorted(k for k in stored.keys() | digests.keys() if stored.get(k) != digests.get(k))
    assert moved == [], f"the processes executor moved {len(moved)} cell(s): {moved[:10]}"
