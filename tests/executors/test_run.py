import itertools

import numpy as np
import pytest

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import Ledger
from tests import toy_plugin


@pytest.fixture(scope="module")
def toy_host():
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin)])


def _opts(tmp_path, **kw):
    base = dict(models="tag:toy", dataset="toy", attacks="pgd", run_dir=tmp_path, shard_size=100)
    base.update(kw)
    return load_options(base, env={}, config_file=None)


def _outcomes(run_dir, result):
    with Ledger(run_dir) as ledger:
        return {c.key: ledger.outcomes(c.key) for c in result.plan.cells}


def test_second_run_computes_nothing(tmp_path, toy_host):
    first = run(_opts(tmp_path), host=toy_host)
    assert first.computed_units == len(first.plan.cells) * 4 and not first.failures
    second = run(_opts(tmp_path), host=toy_host)
    assert second.computed_units == 0 and second.reused_units == first.computed_units
    acc = lambda r: {(c.model, c.label): c.accuracy.value for c in r.summary.cells}  # noqa: E731
    assert acc(first) == acc(second)
    assert second.run_id == first.run_id + 1


def test_eps_chain_and_clean_skips(tmp_path, toy_host):
    result = run(_opts(tmp_path), host=toy_host)
    outs = _outcomes(tmp_path, result)
    for model in ("toy-0", "toy-1"):
        cells = [c for c in result.plan.cells if c.model.name == model]
        clean = outs[cells[0].key]
        chain = [outs[c.key] for c in cells[1:]]
        assert not chain[0].attacked[~clean.correct].any()  # wrong when clean: never attacked
        assert (chain[0].attacked == clean.correct).all()
        for smaller, larger in itertools.pairwise(chain):
            assert (larger.attacked == smaller.correct).all()  # fooled earlier: not attacked again
            assert not (larger.correct & ~smaller.correct).any()  # robust accuracy never rises with eps
        assert np.isnan(chain[1].margin[~chain[1].attacked]).all()


def test_same_seed_identical_outcomes(tmp_path, toy_host):
    a = run(_opts(tmp_path / "a", seed=3), host=toy_host)
    b = run(_opts(tmp_path / "b", seed=3), host=toy_host)
    c = run(_opts(tmp_path / "c", seed=4), host=toy_host)
    oa, ob, oc = _outcomes(tmp_path / "a", a), _outcomes(tmp_path / "b", b), _outcomes(tmp_path / "c", c)
    for key in oa:
        assert (oa[key].correct == ob[key].correct).all() and (oa[key].pred == ob[key].pred).all()
    assert set(oa) != set(oc)  # the seed is part of attack cells' keys


def test_contract_breaking_attack_fails_its_cells_only(tmp_path, toy_host):
    result = run(_opts(tmp_path, attacks="pgd,cheat"), host=toy_host)
    failed = {c.label for c in result.summary.cells if c.status == "failed"}
    assert failed == {"cheat@0.01", "cheat@0.03", "cheat@0.1"}
    errors = {c.threat.label: result.failures[c.key] for c in result.plan.cells if c.key in result.failures}
    assert all("exceeded its linf budget" in errors[f"cheat@{e}"] for e in ("0.01",))
    assert "builds on cheat@0.01, which failed" in errors["cheat@0.03"]
    assert all(c.status == "done" for c in result.summary.cells if not c.label.startswith("cheat"))
    with Ledger(tmp_path) as ledger:
        assert ledger.run()["status"] == "failed"


@pytest.mark.parametrize("attack", ["fgsm", "pgd"])
def test_eps_zero_gives_clean_accuracy(tmp_path, toy_host, attack):
    result = run(_opts(tmp_path, attacks=attack, eps="0"), host=toy_host)
    outs = _outcomes(tmp_path, result)
    for model in ("toy-0", "toy-1"):
        clean, attacked = (c for c in result.plan.cells if c.model.name == model)
        assert (outs[clean.key].correct == outs[attacked.key].correct).all()
        assert (outs[clean.key].pred == outs[attacked.key].pred).all()
