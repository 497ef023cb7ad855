"""The display at 80, 120 and 200 columns, and life inside a long unit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.reporters import LiveProgress, render_terminal
from lkadv.runner import run
from tests import toy_plugin
from tests.attacks import toy10_plugin


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory: pytest.TempPathFactory):
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    opts = load_options(
        {
            "models": "tag:toy",
            "dataset": "toy",
            "attacks": "fgsm,pgd",
            "eps": "1/255,2/255,4/255,8/255,16/255",
            "corruptions": "gaussian_noise,contrast",
            "severities": "1,3,5",
            "limit": 40,
            "run_dir": tmp_path_factory.mktemp("display") / "r",
        },
        env={},
        config_file=None,
    )
    return run(opts, host=host, progress=False)


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_final_table_fits_and_names_every_threat(wide_run, width: int) -> None:
    text = render_terminal(wide_run.summary, width=width)
    lines = text.splitlines()
    assert "…" not in text
    assert all(len(line) <= width for line in lines), max(len(line) for line in lines)
    assert all(line == line.rstrip() for line in lines)
    for label in wide_run.summary.columns:
        assert label in text, label
    for model in ("toy-0", "toy-1"):
        assert sum(line.startswith(f"│ {model} ") for line in lines) >= 1


@pytest.mark.parametrize("width", [80, 120, 200])
def test_the_live_display_fits(wide_run, width: int) -> None:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
    live = LiveProgress(console)
    live.start(wide_run.plan, set(), {c.key: (30, 40) for c in wide_run.plan.cells})
    console.print(live._render())
    live.stop()
    text = console.file.getvalue()
    assert "…" not in text and "75.0" in text  # stored values are shown, not "cached"
    for threat in wide_run.plan.threats:
        assert threat.label in text


class _Recorder(LiveProgress):
    def __init__(self) -> None:
        super().__init__(Console(file=io.StringIO(), width=120, force_terminal=True))
        self.seen: list[str] = []

    def step(self, unit, stage, stage_index, stages, done, total) -> None:
        super().step(unit, stage, stage_index, stages, done, total)
        assert self._tally is not None
        self.seen.append(self._tally.running)


def test_a_long_autoattack_unit_shows_its_stage_and_samples(tmp_path: Path) -> None:
    host = PluginHost(entry_points=False, extra=[("toy10", toy10_plugin)])
    opts = load_options(
        {
            "models": "toy10-0",
            "dataset": "toy10",
            "attacks": "autoattack",
            "eps": "0.25",
            "limit": 40,
            "batch_size": 8,
            "shard_size": 40,
            "run_dir": tmp_path,
            "attack_params": {"autoattack": {"version": "custom", "attacks": "apgd-ce+apgd-t", "iterations": 3}},
        },
        env={},
        config_file=None,
    )
    recorder = _Recorder()
    run(opts, host=host, progress=recorder)
    assert any("stage apgd-ce (1/2)" in s for s in recorder.seen)
    assert any("stage apgd-t (2/2)" in s for s in recorder.seen)
    partial = [s for s in recorder.seen if "apgd-ce" in s]
    assert len({s.rsplit(": ", 1)[1] for s in partial}) > 1  # the sample count moves within the unit


def test_piped_output_follows_columns_without_trailing_spaces(wide_run) -> None:
    from click.testing import CliRunner

    from lkadv.cli import main

    for columns in ("80", "120"):
        res = CliRunner().invoke(
            main, ["-p", "tests.toy_plugin", "report", str(wide_run.run_dir)], env={"COLUMNS": columns}
        )
        assert res.exit_code == 0, res.output
        lines = res.output.splitlines()
        assert max(len(line) for line in lines) <= int(columns)
        assert all(line == line.rstrip() for line in lines) and "…" not in res.output


def test_the_end_of_a_run_is_brief_and_clean_runs_do_not_mention_attacks(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from lkadv.cli import main

    run_dir = str(tmp_path / "r")
    res = CliRunner().invoke(
        main,
        ["run", "-m", "fm-resnet,fm-resnet-gauss", "-a", "fgsm", "--limit", "20", "--run-dir", run_dir, "-q"],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "checks: deterministic" not in res.output and "effective settings" not in res.output  # brief
    assert "this run has no one-pixel attack" in " ".join(res.output.split())  # the Gauss note does not overclaim
    full = CliRunner().invoke(main, ["report", run_dir], env={"COLUMNS": "200"}).output
    assert "checks: deterministic" in full and "effective settings" in full
    clean = CliRunner().invoke(
        main,
        ["run", "-m", "fm-resnet", "--limit", "20", "--run-dir", str(tmp_path / "c"), "-q"],
        env={"COLUMNS": "200"},
    )
    assert "attacks at" not in clean.output and "lkadv run 1 - fashion-mnist - 20 samples - cpu - done" in clean.output


def test_a_resumed_run_hands_the_display_the_stored_values(wide_run) -> None:
    class Spy:
        known: dict | None = None

        def start(self, plan, pending, known=None) -> None:
            Spy.known = known

        def advance(self, unit, outcome) -> None: ...

        def failed(self, cell, error) -> None: ...

        def stop(self) -> None: ...

    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    again = run(wide_run.plan.options, host=host, progress=Spy())
    assert again.computed_units == 0
    expected = {c.key: (c.accuracy.k, c.accuracy.n) for c in wide_run.summary.cells if c.accuracy}
    assert Spy.known == expected
