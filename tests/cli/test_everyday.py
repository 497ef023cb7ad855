"""Everyday use: report follows run's conventions, nothing silent, --dry-run, the licence ships."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main

ROOT = Path(__file__).resolve().parents[2]
TOY = ["-p", "tests.toy_plugin"]


def _invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("everyday") / "r1"
    code, out = _invoke(
        *TOY, "run", "-m", "tag:toy", "-d", "toy", "-a", "fgsm", "--limit", "40", "--run-dir", str(run_dir), "-q"
    )
    assert code == 0, out
    return run_dir


def test_report_takes_the_format_from_the_output_suffix(toy_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "r1.csv"
    assert _invoke(*TOY, "report", str(toy_run), "-o", str(out))[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 8 and rows[0]["model"] == "toy-0"
    assert _invoke(*TOY, "report", str(toy_run), "-o", str(tmp_path / "r.md"))[0] == 0
    assert (tmp_path / "r.md").read_text().startswith("### lkadv run")
    code, text = _invoke(*TOY, "report", str(toy_run), "-o", str(tmp_path / "r.weird"))
    assert code == 2 and "no format writes .weird" in text


def test_report_finds_the_run_as_run_does(toy_run: Path) -> None:
    code, by_option = _invoke(*TOY, "report", "--run-dir", str(toy_run), "-f", "md")
    assert code == 0 and "toy-0" in by_option
    code, by_env = _invoke(*TOY, "report", "-f", "md", env={"LKADV_RUN_DIR": str(toy_run)})
    assert code == 0 and by_env == by_option


def test_names_that_match_no_plugin_and_broken_plugins_are_not_silent(toy_run: Path, fake_plugins: Path) -> None:
    code, out = _invoke("-p", "no:typo", "list", "models")
    assert code == 0 and "-p no:typo (or LKADV_DISABLE_PLUGINS) names 'typo', which matches no plugin" in out
    code, out = _invoke("list", "models", env={"LKADV_LOAD_PLUGINS": "nonexistent"})
    assert "LKADV_LOAD_PLUGINS names 'nonexistent', which matches no plugin" in out
    code, out = _invoke("list", "attacks")  # the fake broken plugins are installed
    assert "plugin 'broken_import' is broken: cannot load: RuntimeError" in out


def test_zero_step_pgd_is_refused(tmp_path: Path) -> None:
    code, out = _invoke(
        "run",
        "-m",
        "fm-resnet",
        "-a",
        "pgd",
        "--attack-param",
        "pgd.steps=0",
        "--limit",
        "10",
        "--run-dir",
        str(tmp_path / "r"),
    )
    assert code == 2 and "steps" in out and ">= 1" in out and not (tmp_path / "r").exists()


def test_dry_run_shows_the_plan_and_what_is_reused_and_writes_nothing(toy_run: Path, tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in toy_run.iterdir()}
    code, out = _invoke(
        *TOY,
        "run",
        "-m",
        "tag:toy",
        "-d",
        "toy",
        "-a",
        "fgsm,pgd",
        "--limit",
        "40",
        "--run-dir",
        str(toy_run),
        "--dry-run",
    )
    assert code == 0, out
    assert "dry run: 6 units to compute, 8 reused; nothing was run or written" in out
    assert {p.name: p.read_bytes() for p in toy_run.iterdir()} == before
    fresh = tmp_path / "fresh"
    code, out = _invoke(*TOY, "run", "-m", "toy-0", "-d", "toy", "--run-dir", str(fresh), "--dry-run", "--limit", "9")
    assert code == 0 and "1 units to compute, 0 reused" in out and not fresh.exists()


@pytest.mark.slow
def test_the_licence_is_at_the_root_and_in_the_wheel(tmp_path: Path) -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-q",
        "--no-deps",
        "--no-build-isolation",
        str(ROOT),
        "-w",
        str(tmp_path),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    wheel = next(tmp_path.glob("lkadv-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        # setuptools >= 69 writes dist-info/licenses/LICENSE, older releases dist-info/LICENSE
        licences = [n for n in zf.namelist() if ".dist-info/" in n and n.endswith("/LICENSE")]
        assert licences and zf.read(licences[0]).decode() == text
