"""`lkadv run --source-models` and `lkadv rescore` on the command line: bad input, warnings, the matrix."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from lkadv.cli import main

RUN = ["run", "-q", "-m", "fm-resnet", "--limit", "8", "-a", "taig", "--eps", "2/255"]
FAST = ["--attack-param", "taig.iterations=2", "--attack-param", "taig.path_steps=1"]

BAD = [
    ("source-no-model", [*RUN, "--source-models", ""], "names no model"),
    ("source-unknown", [*RUN, "--source-models", "fm-resnt"], "closest: fm-resnet"),
    ("source-glob-empty", [*RUN, "--source-models", "zz-*"], "--source-models"),
    (
        "source-label-space",
        [*RUN, "--source-models", "timm:test_resnet[pretrained=false]"],
        "a source must predict the run's labels",
    ),
    ("source-without-attack", ["run", "-m", "fm-resnet", "--source-models", "fm-vit"], "needs --attacks"),
    ("rescore-no-run", ["rescore", "nothing", "-m", "fm-vit"], "is not a run directory"),
]


@pytest.mark.parametrize(("case", "args", "words"), BAD, ids=[c[0] for c in BAD])
def test_bad_transfer_input_exits_2_and_writes_nothing(tmp_path, monkeypatch, case, args, words) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, args, env={"LKADV_RUN_DIR": str(tmp_path / "run")})
    assert res.exit_code == 2, (res.exit_code, res.output, res.exception)
    assert words in res.output, res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "run").exists()
    assert list(tmp_path.iterdir()) == []


def test_rescore_of_a_run_without_transfer_cells_exits_2(tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["run", "-q", "-m", "fm-resnet", "--limit", "4", "--run-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["rescore", str(tmp_path), "-m", "fm-vit"])
    assert res.exit_code == 2 and "no transfer cells" in res.output, res.output


def test_unreachable_eps_warns_and_the_matrix_is_in_every_format(tmp_path) -> None:
    runner = CliRunner()
    args = [*RUN[:-1], "8/255", "--source-models", "fm-resnet", "--run-dir", str(tmp_path), *FAST]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "warning: taig@8/255: 2 steps of 1/255 reach at most 2/255 < eps" in res.output
    assert "transfer success rate, taig@8/255" in res.output
    res = runner.invoke(main, ["rescore", str(tmp_path), "-m", "fm-vit", "-q"])
    assert res.exit_code == 0, res.output
    md = runner.invoke(main, ["report", str(tmp_path), "-f", "md"]).output
    assert "#### transfer success rate, taig@8/255 (%)" in md and "| fm-resnet |" in md
    data = json.loads(runner.invoke(main, ["report", str(tmp_path), "-f", "json"]).output)
    matrix = next(s for s in data["sections"] if s["key"] == "transfer:taig@8/255")
    assert matrix["columns"] == ["source \\ target", "fm-resnet", "fm-vit"]
    assert matrix["rows"][0][0] == "fm-resnet" and len(matrix["rows"]) == 1
    csv_text = runner.invoke(main, ["report", str(tmp_path), "-f", "csv"]).output
    rows = [line for line in csv_text.splitlines() if "taig@8/255 from fm-resnet" in line]
    assert len(rows) == 2  # one tidy row per (source, target)
