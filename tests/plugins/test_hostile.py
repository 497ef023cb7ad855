"""Hostile plugins: each failure stays in its own cells, and every piece of outside text is shown as text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main
from tests.plugins.hostile_plugin import HOSTILE

PLUGINS = ["-p", "tests.toy_plugin", "-p", "tests.plugins.hostile_plugin"]


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, [*PLUGINS, *args], catch_exceptions=False, env={"COLUMNS": "400"})
    return res.exit_code, res.output


def _shown_as_text(output: str) -> None:
    assert "\x1b" not in output  # no raw escape sequence reaches the terminal
    assert "\\x1b[31mRED" in output  # shown escaped instead
    assert "[bold red]MARKUP[/]" in output  # markup is shown, not applied


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    run_dir = tmp_path_factory.mktemp("hostile") / "run"
    code, out = _cli(
        "run",
        "-m",
        "h-model,h-raise,h-nan,h-forward,toy-0",
        "-d",
        "toy",
        "-a",
        "h-raise,h-identity",
        "--eps",
        "0.03",
        "-c",
        "h_raise,h_nan,gaussian_noise",
        "--severities",
        "1",
        "--limit",
        "20",
        "--run-dir",
        str(run_dir),
    )
    return run_dir, code, out


def test_each_failure_fails_only_its_own_cells(hostile_run: tuple[Path, int, str]) -> None:
    run_dir, code, out = hostile_run
    assert code == 1, out  # some cells failed; the run itself finished
    report = json.loads(_cli("report", str(run_dir), "-f", "json")[1])
    status = {(c["model"], c["label"]): c["status"] for c in report["cells"]}
    errors = {(c["model"], c["label"]): c["info"].get("error", "") for c in report["cells"]}
    for model in ("h-model", "toy-0"):  # healthy models: every healthy threat is done
        for label in ("clean", "h-identity@0.03", "gaussian_noise@1"):
            assert status[(model, label)] == "done", (model, label, errors[(model, label)])
        assert status[(model, "h-raise@0.03")] == "failed" and HOSTILE in errors[(model, "h-raise@0.03")]
        assert status[(model, "h_raise@1")] == "failed" and "RuntimeError" in errors[(model, "h_raise@1")]
        assert status[(model, "h_nan@1")] == "failed" and "returned NaN or inf" in errors[(model, "h_nan@1")]
    assert all(s == "failed" for (m, _), s in status.items() if m in ("h-raise", "h-nan", "h-forward"))
    assert "non-finite logits" in errors[("h-nan", "clean")]
    assert "could not be built: RuntimeError" in errors[("h-raise", "clean")]
    assert HOSTILE in errors[("h-forward", "clean")]


def test_outside_text_is_text_in_every_format(hostile_run: tuple[Path, int, str]) -> None:
    run_dir, _, out = hostile_run
    _shown_as_text(out)
    _, terminal = _cli("report", str(run_dir))
    _shown_as_text(terminal)
    _, md = _cli("report", str(run_dir), "-f", "md")
    assert "\x1b" not in md
    main_row = next(line for line in md.splitlines() if line.startswith("| h-model | [bold red]"))
    assert "a\\|b c" in main_row  # a family with | and a newline cannot add columns or rows
    section = md[md.index("#### [bold red]") :].splitlines()
    assert section[2].count(" | ") == 1  # two columns, as declared
    _, table = _cli("report", str(run_dir), "-f", "csv")
    for row in csv.DictReader(io.StringIO(table)):
        assert not row["family"].startswith(("=", "+", "-", "@"))
    _, listing = _cli("list", "models", "--select", "tag:hostile")
    _shown_as_text(listing)
    _, listing = _cli("list", "attacks", "--select", "h-*")
    _shown_as_text(listing)


def test_a_broken_dataset_loader_is_a_clear_error(tmp_path: Path) -> None:
    code, out = _cli("run", "-m", "toy-0", "-d", "h-data", "--run-dir", str(tmp_path / "r"))
    assert code == 2 and "dataset 'h-data': its loader raised OSError" in out
    assert "[bold red]MARKUP[/]" in out and not (tmp_path / "r").exists()


def test_broken_plugins_errors_are_shown_as_text(fake_plugins: Path, tmp_path: Path) -> None:
    (fake_plugins / "lkadv_fake_broken_import.py").write_text(f"raise RuntimeError({HOSTILE!r})\n")
    res = CliRunner().invoke(main, ["plugins"], env={"COLUMNS": "400"})
    assert res.exit_code == 0
    _shown_as_text(res.output)
    res = CliRunner().invoke(main, ["doctor"], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "[bold red]MARKUP[/]" in res.output and "\x1b[31m" not in res.output
