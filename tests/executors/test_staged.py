"""Staged attacks (AutoAttack, worst-of): resume after an interruption, eps chains, sweeps, identities."""

import numpy as np
import pytest

from lkadv.attacks._autoattack import AutoAttack
from lkadv.config import load_options
from lkadv.errors import ConfigError, SelectionError
from lkadv.metrics import summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import cell_text
from lkadv.runner import run
from lkadv.store import Ledger
from tests import toy_plugin

AA = {"autoattack": {"version": "custom", "attacks": "apgd-ce+apgd-dlr", "iterations": 4}}


@pytest.fixture(scope="module")
def toy_host():
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin)])


def _opts(tmp_path, **kw):
    base = dict(models="toy-0", dataset="toy", limit=96, shard_size=48, eps="0.03", run_dir=tmp_path, device="cpu")
    base.update(kw)
    return load_options(base, env={}, config_file=None)


def _outcomes(run_dir, result):
    with Ledger(run_dir) as ledger:
        return {c.key: ledger.outcomes(c.key) for c in result.plan.cells}


def test_an_interrupted_autoattack_cell_resumes_at_its_next_stage(tmp_path, toy_host, monkeypatch):
    calls: list[tuple[str, int]] = []
    original = AutoAttack._stage

    def stage(self, sub, classifier, x, y, eps, generator):
        calls.append((sub.name, len(x)))
        if sub.name == "apgd-dlr" and interrupt["on"]:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the second stage of shard 0
        return original(self, sub, classifier, x, y, eps, generator)

    monkeypatch.setattr(AutoAttack, "_stage", stage)
    interrupt = {"on": True}
    opts = _opts(tmp_path / "a", attacks="autoattack", attack_params=AA)
    with pytest.raises(KeyboardInterrupt):
        run(opts, host=toy_host)
    with Ledger(tmp_path / "a") as ledger:
        assert ledger.run()["status"] == "interrupted"
        cell = next(c for c in ledger.cells(1) if c.threat_kind == "attack")
        saved = ledger.progress(cell.key, 0)
        assert saved is not None and saved[0] == 1  # apgd-ce of shard 0 is recorded...
        assert ledger.done_units({cell.key}) == set()  # ...but the unit is not finished
        flags_after_first = np.asarray(saved[1]["correct"])
        summary = summarize(ledger)
    text = cell_text(next(c for c in summary.cells if c.kind == "attack"))
    assert text == "pending (stage 1/2)"  # not a bare "pending"
    calls.clear()
    interrupt["on"] = False
    resumed = run(opts, host=toy_host)
    assert [name for name, _ in calls] == ["apgd-dlr", "apgd-ce", "apgd-dlr"]  # shard 0 goes on, shard 1 starts
    assert calls[0][1] == int(flags_after_first.sum())  # only the samples still unbroken
    with Ledger(tmp_path / "a") as ledger:
        assert ledger.progress(cell.key, 0) is None  # committing the unit removed its progress row
    calls.clear()
    fresh = run(_opts(tmp_path / "b", attacks="autoattack", attack_params=AA), host=toy_host)
    a, b = _outcomes(tmp_path / "a", resumed), _outcomes(tmp_path / "b", fresh)
    for key in a:
        assert (a[key].correct == b[key].correct).all() and (a[key].pred == b[key].pred).all()


def test_worst_of_chains_eps_and_names_its_members(tmp_path, toy_host):
    params = {"worst-of": {"members": "fgsm+pgd:steps=5+pgd:loss=dlr:steps=5"}}
    result = run(_opts(tmp_path, attacks="worst-of,fgsm", eps="0.03,0.1", attack_params=params), host=toy_host)
    assert not result.failures
    cells = {c.label: c for c in result.summary.cells}
    ensemble = dict(result.plan.cells[1].threat.config)["ensemble"]
    assert ensemble.startswith("fgsm[backend=lkadv,") and "+pgd[" in ensemble and "loss=dlr" in ensemble
    for eps in ("0.03", "0.1"):  # never weaker than its first member run alone
        assert cells[f"worst-of@{eps}"].accuracy.value <= cells[f"fgsm@{eps}"].accuracy.value
    with Ledger(tmp_path) as ledger:
        infos = ledger.unit_infos(cells["worst-of@0.1"].key)
    stages = infos[0]["stages"]
    assert [s["name"] for s in stages] == ["fgsm", "pgd", "pgd"]
    assert stages[1]["attacked"] == stages[0]["attacked"] - stages[0]["broken"]  # only the unbroken go on
    outs = _outcomes(tmp_path, result)
    small = next(c for c in result.plan.cells if c.threat.label == "worst-of@0.03")
    large = next(c for c in result.plan.cells if c.threat.label == "worst-of@0.1")
    assert (outs[large.key].attacked == outs[small.key].correct).all()  # broken at 0.03: not attacked at 0.1


def test_bad_members_fail_while_planning(tmp_path, toy_host):
    with pytest.raises(SelectionError, match="pgdd"):
        run(_opts(tmp_path, attacks="worst-of", attack_params={"worst-of": {"members": "pgdd"}}), host=toy_host)
    params = {"worst-of": {"members": "fgsm", "norm": "l1"}}
    with pytest.raises(ConfigError, match="does not support the ensemble's norm 'l1'"):
        run(_opts(tmp_path, attacks="worst-of", eps="1", attack_params=params), host=toy_host)
    with pytest.raises(ConfigError, match=r"member 'pgd': .*steps"):
        run(_opts(tmp_path, attacks="worst-of", attack_params={"worst-of": {"members": "pgd:steps=x"}}), host=toy_host)


def test_parameter_sweeps_make_distinct_columns_and_feed_the_sanity_checks(tmp_path, toy_host):
    params = {"pgd": {"steps": "1|8", "random_start": "false"}}
    result = run(_opts(tmp_path, attacks="pgd", eps="0.03,0.1", attack_params=params), host=toy_host)
    labels = [c.label for c in result.summary.cells]
    assert labels == ["clean", "pgd(steps=1)@0.03", "pgd(steps=1)@0.1", "pgd(steps=8)@0.03", "pgd(steps=8)@0.1"]
    acc = {c.label: c.accuracy.value for c in result.summary.cells}
    assert acc["pgd(steps=8)@0.1"] <= acc["pgd(steps=1)@0.1"]
    sanity = next(s for s in result.summary.sections if s.key == "sanity")
    passed = int(sanity.notes[0].split()[0])
    assert passed >= 2 + 2 + 6  # eps chains, steps pairs, probe checks at least


def test_an_l0_threat_runs_end_to_end(tmp_path, toy_host):
    params = {"onepixel": {"popsize": 8, "iterations": 2}}
    result = run(_opts(tmp_path, attacks="onepixel", eps="1,3", attack_params=params), host=toy_host)
    assert not result.failures
    labels = [c.label for c in result.summary.cells]
    assert labels == ["clean", "onepixel-l0@1", "onepixel-l0@3"]
    with Ledger(tmp_path) as ledger:
        infos = ledger.unit_infos(result.plan.cells[2].key)
    assert all(i["max_perturbation"] <= 3 for i in infos)


def test_every_attack_runs_with_the_model_parameters_frozen(tmp_path, toy_host, monkeypatch):
    # AutoAttack (pyautoattack) does not freeze anything itself: the executor does, for every attack.
    seen: list[bool] = []
    original = AutoAttack._stage

    def stage(self, sub, classifier, x, y, eps, generator):
        seen.append(any(p.requires_grad for p in classifier.parameters()))
        return original(self, sub, classifier, x, y, eps, generator)

    monkeypatch.setattr(AutoAttack, "_stage", stage)
    result = run(_opts(tmp_path, attacks="autoattack", attack_params=AA), host=toy_host)
    assert not result.failures and seen and not any(seen)
