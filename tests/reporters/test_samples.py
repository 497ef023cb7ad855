"""Per-sample exports: one row per (cell, sample), consistent with the report, readable by pandas."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from lkadv.cli import main


def _cli(*args: str) -> CliRunner:
    res = CliRunner().invoke(main, ["-p", "tests.toy_plugin", *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def test_per_sample_exports_match_the_report(tmp_path: Path) -> None:
    run_dir = str(tmp_path / "run")
    _cli(
        "run",
        "-m",
        "tag:toy",
        "-d",
        "toy",
        "-a",
        "pgd",
        "-c",
        "gaussian_noise",
        "--severities",
        "2,5",
        "--limit",
        "60",
        "--shard-size",
        "25",
        "--run-dir",
        run_dir,
        "-q",
    )
    report = json.loads(_cli("report", run_dir, "-f", "json").output)
    rows = pd.read_json(io.StringIO(_cli("report", run_dir, "-f", "jsonl").output), lines=True)
    assert len(rows) == len(report["cells"]) * 60
    for cell in report["cells"]:
        mine = rows[rows["cell"] == cell["key"]]
        assert len(mine) == cell["accuracy"]["n"] and int(mine["correct"].sum()) == cell["accuracy"]["k"]
        assert sorted(mine["index"]) == list(range(60))
    clean = rows[rows["kind"] == "clean"]
    assert (clean["correct"] == (clean["pred"] == clean["label"])).all()
    attack = rows[rows["kind"] == "attack"]
    hit = attack["attacked"] & ~attack["correct"]
    assert (attack.loc[hit, "broken_by"] == "pgd").all() and (attack.loc[~hit, "broken_by"] == "").all()
    assert (attack.loc[attack["attacked"], "perturbation"] <= attack.loc[attack["attacked"], "eps"] + 1e-6).all()
    assert attack.loc[~attack["attacked"], "perturbation"].isna().all()
    assert set(rows["sample_id"]) <= {f"toy/{i}" for i in range(400)}

    as_csv = pd.read_csv(io.StringIO(_cli("report", run_dir, "-f", "samples-csv").output))
    np.testing.assert_array_equal(as_csv["correct"].to_numpy(), rows["correct"].to_numpy())
    out = tmp_path / "samples.parquet"
    _cli("report", run_dir, "-f", "parquet", "-o", str(out))
    parquet = pd.read_parquet(out)
    assert list(parquet.columns) == list(rows.columns)
    np.testing.assert_array_equal(parquet["pred"].to_numpy(), rows["pred"].to_numpy())


def test_binary_format_needs_an_output_file(tmp_path: Path) -> None:
    run_dir = str(tmp_path / "run")
    _cli("run", "-m", "toy-0", "-d", "toy", "--limit", "10", "--run-dir", run_dir, "-q")
    res = CliRunner().invoke(main, ["report", run_dir, "-f", "parquet"], catch_exceptions=False)
    assert res.exit_code == 2 and "give -o FILE.parquet" in res.output


def test_csv_exports_neutralize_formulas(tmp_path: Path) -> None:
    from lkadv.reporters._escape import csv_cell

    assert csv_cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)" and csv_cell(-0.5) == -0.5 and csv_cell("fm-resnet") == "fm-resnet"
