import typing

import pytest

from lkadv import AttackSpec, ModelSpec, hookimpl
from lkadv.errors import PluginError
from lkadv.plugins import BUILTIN_PLUGINS, PluginHost


def test_builtins_all_load_and_register(host):
    assert set(BUILTIN_PLUGINS) <= set(host.plugins)
    assert all(p.status == "ok" for p in host.plugins.values()), [p.errors for p in host.plugins.values()]
    assert "pgd" in host.registries.attacks
    assert "fashion-mnist" in host.registries.datasets
    assert host.plugins["lkadv.attacks"].registered == {
        "attacks": ["fgsm", "pgd", "apgd", "autoattack", "worst-of", "onepixel", "taig"]
    }
    assert "lkadv_register_attacks" in host.plugins["lkadv.attacks"].hooks


def test_broken_plugins_are_listed_and_the_rest_works(fake_plugins):
    host = PluginHost()
    assert host.plugins["broken_import"].status == "broken"
    assert "this plugin is broken on purpose" in host.plugins["broken_import"].errors[0]
    assert host.plugins["broken_hook"].status == "broken"
    assert "hook exploded" in host.plugins["broken_hook"].errors[0]
    assert host.plugins["broken_hook"].version == "2.0"
    good = host.plugins["good"]
    assert good.status == "ok" and good.version == "3.0"
    assert good.registered == {"attacks": ["noop"]}
    assert "noop" in host.registries.attacks and "pgd" in host.registries.attacks


def test_strict_mode_turns_plugin_errors_into_failures(fake_plugins):
    with pytest.raises(PluginError, match="broken_import.*broken on purpose"):
        PluginHost(strict=True)


def test_load_plugins_env_picks_third_party_plugins(fake_plugins, monkeypatch):
    monkeypatch.setenv("LKADV_LOAD_PLUGINS", "good")
    host = PluginHost()
    assert host.plugins["good"].status == "ok"
    assert host.plugins["broken_import"].status == "disabled"
    assert host.plugins["lkadv.attacks"].status == "ok"  # built-ins always load


def test_disable_by_name_includes_builtins(fake_plugins):
    host = PluginHost(disable=["lkadv.attacks", "broken_hook"])
    assert host.plugins["lkadv.attacks"].status == "disabled"
    assert "pgd" not in host.registries.attacks
    assert host.plugins["broken_hook"].status == "disabled"


def _model(name, **kw):
    base = dict(
        name=name,
        family="f",
        factory="m:f",
        label_space="x",
        num_classes=2,
        input_size=(1, 4, 4),
        mean=(0.5,),
        std=(0.5,),
    )
    base.update(kw)
    return ModelSpec(**base)


class _BadSpec:
    @staticmethod
    @hookimpl
    def lkadv_register_models(registry):
        registry.register(_model("fine"))
        registry.register(_model("bad", mean=(0.5, 0.5)))


def test_bad_spec_names_plugin_field_and_withdraws_everything():
    host = PluginHost(entry_points=False, extra=[("badspec", _BadSpec)])
    info = host.plugins["badspec"]
    assert info.status == "broken"
    assert "plugin 'badspec': ModelSpec 'bad': field 'mean' has 2 values" in info.errors[0]
    assert "fine" not in host.registries.models  # all or nothing
    with pytest.raises(PluginError, match="plugin 'badspec': ModelSpec 'bad': field 'mean'"):
        PluginHost(entry_points=False, extra=[("badspec", _BadSpec)], strict=True)


class _Dup:
    @staticmethod
    @hookimpl
    def lkadv_register_attacks(registry):
        registry.register(AttackSpec(name="pgd", norms=("linf",), factory="x:y"))


def test_name_clash_breaks_the_later_plugin_only():
    host = PluginHost(entry_points=False, extra=[("dup", _Dup)])
    assert host.plugins["dup"].status == "broken"
    assert "already registered by plugin 'lkadv.attacks'" in host.plugins["dup"].errors[0]
    assert host.registries.attacks.get("pgd").backend == "lkadv"


class _UnknownHook:
    @staticmethod
    @hookimpl
    def lkadv_register_modles(registry):  # a typo
        pass


def test_unknown_hook_is_an_error():
    host = PluginHost(entry_points=False, extra=[("typo", _UnknownHook)])
    assert host.plugins["typo"].status == "broken"
    assert "lkadv_register_modles" in host.plugins["typo"].errors[0]


class _Observer:
    @staticmethod
    @hookimpl
    def lkadv_run_started(plan):
        raise RuntimeError("observer failed")


class _Observer2:
    seen: typing.ClassVar[list[object]] = []

    @staticmethod
    @hookimpl
    def lkadv_run_started(plan):
        _Observer2.seen.append(plan)


def test_lifecycle_hooks_are_isolated():
    host = PluginHost(entry_points=False, extra=[("obs1", _Observer), ("obs2", _Observer2)])
    host.notify("lkadv_run_started", plan="P")
    assert _Observer2.seen == ["P"]
    assert "observer failed" in host.plugins["obs1"].errors[0]
    strict = PluginHost(entry_points=False, extra=[("obs1", _Observer)], strict=True)
    with pytest.raises(PluginError, match="observer failed"):
        strict.notify("lkadv_run_started", plan="P")


class _Analysis:
    @staticmethod
    @hookimpl
    def lkadv_register_analyses(registry):
        from lkadv.specs import AnalysisSpec

        registry.register(AnalysisSpec(name="toy-analysis", run=lambda *a: {}))


class _Sections:
    calls: typing.ClassVar[list[str]] = []

    def __init__(self, tag: str) -> None:
        self.tag = tag

    @hookimpl
    def lkadv_report_sections(self, summary, ledger):
        _Sections.calls.append(self.tag)
        return [self.tag]


def test_registrations_are_named_by_the_registries_plural():
    host = PluginHost(entry_points=False, extra=[("analysis", _Analysis)])
    assert host.plugins["analysis"].registered == {"analyses": ["toy-analysis"]}


def test_notify_and_collect_call_plugins_in_the_same_order():
    _Sections.calls.clear()
    host = PluginHost(entry_points=False, builtins={}, extra=[("a", _Sections("a")), ("b", _Sections("b"))])
    assert host.collect("lkadv_report_sections", summary=None, ledger=None) == ["a", "b"]
    host.notify("lkadv_report_sections", summary=None, ledger=None)
    assert _Sections.calls == ["a", "b", "a", "b"]  # registration order, through the one calling path
