"""`lkadv run` differentiates the BatchNorm-folded model, records the path, and the numbers do not move."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lkadv.store import Ledger

ROOT = Path(__file__).resolve().parents[2]


def _run(run_dir: Path, **env: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "lkadv",
        "run",
        "-m",
        "fm-resnet,fm-vit",
        "-a",
        "pgd,fgsm",
        "--limit",
        "40",
        "--run-dir",
        str(run_dir),
        "-q",
    ]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def _engine(run_dir: Path) -> dict[tuple[str, str], dict]:
    with sqlite3.connect(run_dir / "ledger.sqlite") as db:
        rows = db.execute("SELECT model, threat_label, info FROM cells WHERE threat_kind = 'attack'").fetchall()
    return {(m, t): json.loads(info)["engine"] for m, t, info in rows}


def _outcomes(run_dir: Path) -> dict[tuple[str, str], tuple[np.ndarray, ...]]:
    out = {}
    with Ledger(run_dir) as ledger:
        for row in ledger.cells(ledger.run()["id"]):
            o = ledger.outcomes(row.key)
            out[(row.model, row.threat_label)] = (o.correct, o.pred, o.attacked)
    return out


@pytest.mark.slow
def test_the_cli_attacks_the_folded_copy_and_records_it(tmp_path: Path) -> None:
    _run(tmp_path / "on")
    _run(tmp_path / "off", LKADV_FOLD_BN="0")
    on, off = _engine(tmp_path / "on"), _engine(tmp_path / "off")
    assert on and on.keys() == off.keys()
    for (model, _), engine in on.items():
        assert engine["engine"] is True
        # fm-resnet has BatchNorm: the copy is attacked; fm-vit (LayerNorm only) has nothing to fold.
        assert engine["folded_copy"] is (model == "fm-resnet"), (model, engine)
    assert all(e["folded_copy"] is False and e["plain_views"] > 0 for e in off.values())
    a, b = _outcomes(tmp_path / "on"), _outcomes(tmp_path / "off")
    assert a.keys() == b.keys()
    for key in a:
        for x, y in zip(a[key], b[key], strict=True):
            np.testing.assert_array_equal(x, y, err_msg=str(key))
