"""``lkadv report`` shows the analyses' tables of its run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main


def test_report_carries_the_analysis_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    base = ["--run-dir", "out", "--limit", "10", "-m", "fm-replknet,fm-vit", "-q"]
    assert runner.invoke(main, ["run", *base]).exit_code == 0
    assert runner.invoke(main, ["analyze", *base, "-A", "kernel-attention"]).exit_code == 0
    report = runner.invoke(main, ["report", "out", "-f", "json"])
    assert report.exit_code == 0, report.output
    sections = {s["key"]: s for s in json.loads(report.output)["sections"]}
    section = sections["analysis:kernel-attention"]
    assert [row[0] for row in section["rows"]] == ["fm-replknet", "fm-replknet"]
    assert "skipped fm-vit: the model declares no large depthwise kernels" in section["notes"]
