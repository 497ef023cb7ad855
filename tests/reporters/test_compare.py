"""``lkadv compare``: runs joined on cell identity, differing identities named, numbers as each run reports them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from lkadv.cli import main
from lkadv.config import load_options
from lkadv.metrics import summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import compare_runs, identity_diff, render_comparison
from lkadv.runner import run
from lkadv.store import Ledger
from tests import toy_plugin


def _run(run_dir: Path, models: str, **extra: str) -> Path:
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    options = dict(models=models, dataset="toy", attacks="pgd", eps="0.03", limit="60", run_dir=run_dir, **extra)
    result = run(load_options(options, env={}, config_file=None), host=host, progress=False)
    assert not result.failures
    return run_dir


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("compare")
    return {
        "a": _run(root / "a", "toy-0"),
        "b": _run(root / "b", "toy-1"),
        "steps": _run(root / "steps", "toy-1", attack_params="pgd.steps=3"),
    }


def _accuracies(run_dir: Path) -> dict[tuple[str, str], float]:
    with Ledger(run_dir) as ledger:
        summary = summarize(ledger)
    return {(c.model, c.label): round(100 * c.accuracy.value, 2) for c in summary.cells if c.accuracy}


def test_compatible_runs_give_each_runs_own_numbers(runs: dict[str, Path]) -> None:
    comparison = compare_runs([runs["a"], runs["b"]])
    own = _accuracies(runs["a"]) | _accuracies(runs["b"])
    seen = {}
    for section in comparison.sections:
        if section.key.startswith("ranking:"):
            threat = section.key.split(":", 1)[1]
            for row in section.rows:
                seen[(row[1], threat)] = row[4]
    assert seen == own  # every cell of both runs, with the number its own report gives
    refused = next(s for s in comparison.sections if s.key == "not-compared")
    assert refused.rows == []
    ranking = next(s for s in comparison.sections if s.key == "ranking:pgd@0.03")
    assert [r[0] for r in ranking.rows] == sorted(r[0] for r in ranking.rows)  # best first
    assert ranking.rows[0][7] is None and 0 <= float(ranking.rows[1][7]) <= 1  # p vs #1 for the others


def test_a_different_threat_configuration_is_named_not_compared(runs: dict[str, Path]) -> None:
    comparison = compare_runs([runs["a"], runs["steps"]])
    refused = next(s for s in comparison.sections if s.key == "not-compared")
    assert [(r[0], r[2], r[3], r[4]) for r in refused.rows] == [("pgd@0.03", "threat.config.steps", "10", "3")]
    assert not any(s.key == "ranking:pgd@0.03" for s in comparison.sections)
    assert any(s.key == "ranking:clean" for s in comparison.sections)  # clean cells still compare
    for fmt in ("terminal", "md", "csv", "json", "html"):
        text = render_comparison(comparison, fmt)
        assert "threat.config.steps" in text, fmt


def test_identity_diff_lists_leaf_fields_and_hides_derived_ones() -> None:
    a = {"threat": {"config": {"steps": 10, "loss": "ce"}, "id": "pgd[steps=10]", "eps": 0.1}, "seed": 0}
    b = {"threat": {"config": {"steps": 20, "loss": "ce"}, "id": "pgd[steps=20]", "eps": 0.1}, "seed": 0}
    assert identity_diff(a, b) == [("threat.config.steps", 10, 20)]
    assert identity_diff(a, a) == []
    only_id = {"threat": {**a["threat"], "id": "other"}, "seed": 0}
    assert identity_diff(a, only_id) == [("threat.id", "pgd[steps=10]", "other")]


def test_cli_compare_every_format_and_bad_input(runs: dict[str, Path], tmp_path: Path) -> None:
    cli = CliRunner()
    res = cli.invoke(main, ["compare", str(runs["a"]), str(runs["b"]), "-f", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {s["key"] for s in data["sections"]} >= {"leaderboard", "ranking:clean", "not-compared", "runs"}
    out = tmp_path / "c.csv"
    assert cli.invoke(main, ["compare", str(runs["a"]), str(runs["steps"]), "-o", str(out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert any(r["kind"] == "not-compared" and r["field"] == "threat.config.steps" for r in rows)
    assert {r["threat"] for r in rows if r["kind"] == "ranking"} == {"clean"}
    res = cli.invoke(main, ["compare", str(runs["a"])])
    assert res.exit_code == 2 and "two or more run directories" in res.output
    res = cli.invoke(main, ["compare", str(runs["a"]), str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "no ledger.sqlite" in res.output
    res = cli.invoke(main, ["compare", str(runs["a"]), str(runs["b"]), "-o", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and not (tmp_path / "x.pdf").exists()
    terminal = cli.invoke(main, ["compare", str(runs["a"]), str(runs["b"])], env={"COLUMNS": "200"}).output
    assert "leaderboard across runs" in terminal and "p vs #1" in terminal


_leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["ce", "dlr", "linf"]))
_tree = st.recursive(_leaf, lambda kids: st.dictionaries(st.sampled_from("abcd"), kids, max_size=3), max_leaves=8)


@given(
    a=st.dictionaries(st.sampled_from("xyz"), _tree, max_size=3),
    b=st.dictionaries(st.sampled_from("xyz"), _tree, max_size=3),
)
def test_identity_diff_is_empty_exactly_when_equal_and_symmetric(a, b):
    diffs = identity_diff(a, b)
    assert (diffs == []) == (a == b)
    assert sorted((p, y, x) for p, x, y in diffs) == sorted(identity_diff(b, a))


def test_the_same_cell_in_two_runs_is_one_entry(runs: dict[str, Path]) -> None:
    comparison = compare_runs([runs["a"], runs["b"], runs["steps"]])
    clean = next(s for s in comparison.sections if s.key == "ranking:clean")
    assert sorted((r[1], r[3]) for r in clean.rows) == [("toy-0", "A"), ("toy-1", "B+C")]
    pgd = next(s for s in comparison.sections if s.key == "ranking:pgd@0.03")
    assert sorted((r[1], r[3]) for r in pgd.rows) == [("toy-0", "A"), ("toy-1", "B")]  # C's pgd differs: not here
    refused = next(s for s in comparison.sections if s.key == "not-compared")
    assert [(r[1], r[2]) for r in refused.rows] == [("A vs C", "threat.config.steps")]
