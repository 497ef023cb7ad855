import types

import pytest

import tests.toy_plugin as toy
from lkadv import hookimpl
from lkadv.testing import ContractViolation, check_plugin, load_plugin

pytest_plugins = ["pytester"]


def test_load_plugin_by_object_lists_what_it_registered():
    loaded = load_plugin(toy, name="toy")
    assert [s.name for s in loaded.models] == ["toy-0", "toy-1"]
    assert [s.name for s in loaded.attacks] == ["cheat"]
    assert [s.name for s in loaded.datasets] == ["toy"]
    assert "pgd" in loaded.host.registries.attacks  # the built-ins are there too


def test_check_plugin_finds_the_cheating_attack():
    with pytest.raises(ContractViolation, match=r"^attack\.norm-bound: attack 'cheat'"):
        check_plugin(toy)
    report = check_plugin(toy, skip=["cheat:attack.norm-bound", "attack.range"])
    assert report["cheat"]["attack.determinism"] == "ok" and "attack.norm-bound" not in report["cheat"]
    assert report["toy-0"]["model.normalization-inside"] == "ok"  # checked on the toy dataset
    assert set(report["toy"].values()) == {"ok"}


def test_missing_broken_and_empty_plugins():
    with pytest.raises(ContractViolation, match=r"^plugin\.loads: no entry point 'nope' in group 'lkadv'"):
        load_plugin("nope")
    broken = types.SimpleNamespace(lkadv_register_models=hookimpl(lambda registry: 1 / 0))
    with pytest.raises(ContractViolation, match=r"^plugin\.loads: plugin 'broken' is broken: .*ZeroDivisionError"):
        load_plugin(broken, name="broken")
    empty = types.SimpleNamespace(lkadv_register_models=hookimpl(lambda registry: None))
    with pytest.raises(ContractViolation, match=r"^plugin\.registers: plugin 'empty' registered nothing"):
        load_plugin(empty, name="empty")


def test_conformance_class_makes_one_test_per_spec_and_contract(pytester):
    pytester.makepyfile(
        """
        import tests.toy_plugin as toy
        from lkadv.testing import PluginConformance

        class TestToy(PluginConformance):
            plugin = toy
            skip_contracts = {"toy-1:model.gradients": "not relevant here"}
        """
    )
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "-k", "not toy-0")
    outcomes = result.parseoutcomes()
    # plugin.loads; toy-1: 9 model contracts less the skipped one and reparam-equivalence (skipped: it
    # has nothing to merge); cheat: 5 attack contracts, of which only norm-bound fails (its +2 eps
    # shift is clipped, so range holds); toy: 4 dataset contracts.
    assert outcomes == {"passed": 1 + 7 + 4 + 4, "failed": 1, "skipped": 2, "deselected": 9}, result.stdout.str()
    result.stdout.fnmatch_lines(["*test_contract?cheat/attack.norm-bound?*", "E * attack.norm-bound: attack 'cheat'*"])
