"""lkadv's AutoAttack cell against a direct pyautoattack run: the same robust accuracy, exactly."""

import sys
import types

import pytest
import torch

from lkadv.attacks import AutoAttack
from lkadv.attacks._aa_config import ensemble, expand, format_ensemble
from lkadv.config import load_options
from lkadv.errors import ConfigError
from lkadv.models import build_classifier
from lkadv.planner import Unit
from lkadv.plugins import PluginHost
from lkadv.runner import run
from lkadv.store import Ledger
from tests.attacks import toy10_plugin

pyautoattack = pytest.importorskip("pyautoattack")

_NORM = {"linf": "Linf", "l2": "L2", "l1": "L1"}


def _tune_direct(adversary, iterations=None, queries=None):
    """What ``version="custom"`` with fewer iterations means for a direct pyautoattack run."""
    if iterations is not None:
        for apgd in (adversary.apgd, adversary.apgd_targeted):
            apgd.n_iter = apgd.n_iter_orig = iterations
            apgd.n_iter_2 = max(int(0.22 * iterations), 1)
            apgd.n_iter_min = max(int(0.06 * iterations), 1)
            apgd.size_decr = max(int(0.03 * iterations), 1)
        adversary.fab.n_iter = iterations
    if queries is not None:
        adversary.square.n_queries = queries


def _lkadv_vs_direct(tmp_path, host, model, dataset, eps, n, params, norm="linf"):
    opts = load_options(
        dict(
            models=model,
            dataset=dataset,
            attacks="autoattack",
            eps=str(eps),
            limit=n,
            batch_size=n,
            run_dir=tmp_path,
            attack_params={"autoattack": {**params, "norm": norm}},
            device="cpu",
        ),
        env={},
        config_file=None,
    )
    result = run(opts, host=host)
    assert not result.failures, result.failures
    plan = result.plan
    cell = next(c for c in plan.cells if c.threat.kind == "attack")
    got = next(c for c in result.summary.cells if c.key == cell.key).accuracy
    x = plan.imageset.load(list(plan.subset.positions))
    y = plan.imageset.labels[list(plan.subset.positions)]
    clf, _ = build_classifier(host.registries.models.get(model))
    custom = params.get("version") == "custom"
    direct = pyautoattack.AutoAttack(
        clf,
        norm=_NORM[norm],
        eps=eps,
        version=params.get("version", "standard"),
        attacks=params["attacks"].split("+") if custom else None,
        device="cpu",
        seed=Unit(cell, 0, 0, n).seed,  # the seed lkadv derived for this cell's only unit
    )
    _tune_direct(direct, params.get("iterations"), params.get("queries"))
    x_adv, _ = direct.run_standard_evaluation(x, y, batch_size=n)
    with torch.no_grad():
        robust = int((clf(x_adv).argmax(1) == y).sum())
    return got, robust, result


def test_custom_ensemble_on_a_mini_zoo_model_matches_pyautoattack(tmp_path, host):
    params = {"version": "custom", "attacks": "apgd-ce+apgd-t+fab-t+square", "iterations": 5, "queries": 40}
    got, robust, result = _lkadv_vs_direct(tmp_path, host, "fm-resnet", "fashion-mnist", 4 / 255, 16, params)
    assert got.k == robust and got.n == 16
    info = next(c.info for c in result.summary.cells if c.kind == "attack")
    assert info == {} or "error" not in info
    cell = next(c for c in result.summary.cells if c.kind == "attack")
    assert "ensemble=apgd-ce(iter=5,restarts=5)+apgd-t(iter=5,restarts=1,targets=9)" in cell.threat_id
    assert "backend=pyautoattack" in cell.threat_id


def test_standard_ensemble_matches_pyautoattack(tmp_path):
    host = PluginHost(entry_points=False, extra=[("toy10", toy10_plugin)])
    got, robust, result = _lkadv_vs_direct(tmp_path, host, "toy10-0", "toy10", 0.25, 10, {"version": "standard"})
    assert got.k == robust
    assert 0 < robust < 10  # some samples survive APGD-CE, so every stage ran
    with Ledger(tmp_path) as ledger:
        cell = next(c for c in result.plan.cells if c.threat.kind == "attack")
        stages = [s["name"] for s in ledger.unit_infos(cell.key)[0]["stages"]]
    assert stages == ["apgd-ce", "apgd-t", "fab-t", "square"]


def test_ensembles_are_written_out_exactly():
    assert format_ensemble(ensemble("standard", "linf")) == (
        "apgd-ce(iter=100,restarts=1)+apgd-t(iter=100,restarts=1,targets=9)+"
        "fab-t(iter=100,restarts=1,targets=9)+square(queries=5000,p_init=0.8)"
    )
    assert [s.name for s in ensemble("plus", "l2")] == ["apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"]
    assert [s.eot for s in ensemble("rand", "linf")] == [20, 20]
    assert ensemble("standard", "l1")[1].targets == 5 and ensemble("standard", "l1")[0].largereps
    assert expand({"version": "custom", "norm": "l2", "attacks": "apgd-dlr+square", "queries": 100}) == {
        "ensemble": "apgd-dlr(iter=100,restarts=5)+square(queries=100,p_init=0.8)"
    }
    with pytest.raises(ConfigError, match="can only be set with version=custom"):
        ensemble("standard", "linf", iterations=10)
    with pytest.raises(ConfigError, match="has no attack"):
        ensemble("custom", "linf", attacks="apgd-ce+pgd")
    with pytest.raises(ConfigError, match="needs attacks"):
        ensemble("custom", "linf")


@pytest.mark.parametrize("version", ["standard", "plus", "rand"])
def test_the_backend_runs_the_recorded_ensemble(version):
    attack = AutoAttack(norm="linf", version=version)
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 10))
    attack._adversary(clf, 0.1, torch.device("cpu"), 0)  # raises if the backend disagrees


def test_a_backend_that_changes_its_defaults_fails_loudly(monkeypatch):
    original = pyautoattack.AutoAttack._set_version

    def drifted(self, version="standard"):
        original(self, version)
        self.square.n_queries = 1000

    monkeypatch.setattr(pyautoattack.AutoAttack, "_set_version", drifted)
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 10))
    with pytest.raises(ConfigError, match=r"expected .*square\(queries=5000.*configured as .*queries=1000"):
        AutoAttack(norm="linf")._adversary(clf, 0.1, torch.device("cpu"), 0)


def test_fewer_classes_than_targets_is_a_clear_error():
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 4))
    x, y = torch.rand(2, 1, 2, 2), torch.tensor([0, 1])
    stage = dict(AutoAttack(norm="linf").stages)["apgd-t"]
    with pytest.raises(ConfigError, match="tries 9 target classes, but the model has 4 classes"):
        stage(clf, x, y, 0.1, torch.Generator().manual_seed(0))


def test_the_upstream_module_name_is_used_when_only_it_is_installed(monkeypatch):
    # A stand-in for fra31/auto-attack: its keyword API (attacks_to_run, verbose) over pyautoattack's code.
    upstream = types.ModuleType("autoattack")

    class UpstreamAutoAttack(pyautoattack.AutoAttack):
        def __init__(self, model, norm="Linf", eps=0.3, seed=None, verbose=True, attacks_to_run=(), version="standard",
                     is_tf_model=False, device="cuda", log_path=None):  # fmt: skip
            super().__init__(model, norm=norm, eps=eps, seed=seed, version=version, device=device,
                             attacks=list(attacks_to_run) if version == "custom" else None)  # fmt: skip

    upstream.AutoAttack = UpstreamAutoAttack
    upstream.__spec__ = types.SimpleNamespace(name="autoattack")
    monkeypatch.setitem(sys.modules, "autoattack", upstream)
    import importlib.util

    real_find = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyautoattack" else real_find(name, *a)
    )
    attack = AutoAttack(norm="linf", version="custom", attacks="apgd-ce", iterations=5)
    assert attack.module_name == "autoattack"
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    clf = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 10))
    x = torch.rand(6, 1, 4, 4, generator=g)
    y = clf(x).argmax(1)
    ours = attack(clf, x, y, 0.1, torch.Generator().manual_seed(3))
    direct = pyautoattack.AutoAttack(clf, norm="Linf", eps=0.1, version="custom", attacks=["apgd-ce"], seed=3)
    _tune_direct(direct, iterations=5)
    direct.apgd.seed = 3
    torch.testing.assert_close(ours, direct.apgd.perturb(x, y))
