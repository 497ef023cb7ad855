"""A ready-made conformance test suite: subclass it and name your plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from lkadv.testing._contracts import select_contracts
from lkadv.testing._errors import ContractViolation
from lkadv.testing._plugin import LoadedPlugin, load_plugin

__all__ = ["PluginConformance"]

_LOADED: dict[int, LoadedPlugin | ContractViolation] = {}
_ANALYSED: dict[tuple[int, str], dict[str, str] | ContractViolation] = {}
_ANALYSIS_ORDER = tuple(select_contracts("analysis", None))


class PluginConformance:
    """Subclass this in a test module to check a plugin against every contract.

    Example::

        from lkadv.testing import PluginConformance

        class TestConformance(PluginConformance):
            plugin = "example"  # the entry-point name (or the plugin module itself)

    pytest then collects ``test_plugin_loads`` and one ``test_contract`` per
    registered spec and contract (ids like ``example-net/model.eval-mode``).

    Attributes:
        plugin: Entry-point name of the installed plugin, or the plugin object.
        attack_params: Per attack name, parameter overrides that keep the checks fast.
        skip_contracts: ``CONTRACT`` or ``SPEC_NAME:CONTRACT`` -> the reason it does not apply.
        analysis_model: Mini-zoo model the plugin's analyses are run on.
        analysis_params: Per analysis name, parameter overrides that keep the checks fast.
    """

    plugin: ClassVar[Any] = None
    attack_params: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    skip_contracts: ClassVar[Mapping[str, str]] = {}
    analysis_model: ClassVar[str] = "fm-replknet"
    analysis_params: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    @classmethod
    def _loaded(cls) -> LoadedPlugin | ContractViolation:
        key = id(cls.plugin)
        if key not in _LOADED:
            try:
                _LOADED[key] = load_plugin(cls.plugin)
            except ContractViolation as exc:
                _LOADED[key] = exc
        return _LOADED[key]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize ``lkadv_case`` with every (spec, contract) of the plugin."""
        if "lkadv_case" not in metafunc.fixturenames:
            return
        loaded = self._loaded()
        cases = []
        if isinstance(loaded, LoadedPlugin):
            for kind, spec in loaded.specs():
                for contract in select_contracts(kind, None):
                    reason = self.skip_contracts.get(f"{spec.name}:{contract}") or self.skip_contracts.get(contract)
                    marks = [pytest.mark.skip(reason=reason)] if reason else []
                    cases.append(pytest.param((kind, spec, contract), id=f"{spec.name}/{contract}", marks=marks))
        metafunc.parametrize("lkadv_case", cases)

    def test_plugin_loads(self) -> None:
        """The plugin is installed, loads, and registers something."""
        if self.plugin is None:
            pytest.fail(f"{type(self).__name__}.plugin is not set: name your plugin's entry point")
        loaded = self._loaded()
        if isinstance(loaded, ContractViolation):
            raise loaded

    def test_contract(self, lkadv_case: tuple[str, Any, str]) -> None:
        """One contract of one registered spec."""
        from lkadv.testing._attacks import check_attack
        from lkadv.testing._corruptions import check_corruption
        from lkadv.testing._datasets import check_dataset
        from lkadv.testing._models import check_model

        kind, spec, contract = lkadv_case
        loaded = self._loaded()
        assert isinstance(loaded, LoadedPlugin)
        if kind == "analysis":
            self._analysis_contract(spec, contract)
            return
        if kind == "model":
            result = check_model(spec, contracts=[contract], host=loaded.host)
        elif kind == "attack":
            result = check_attack(spec, contracts=[contract], params=self.attack_params.get(spec.name))
        elif kind == "corruption":
            result = check_corruption(spec, contracts=[contract])
        else:
            result = check_dataset(spec, contracts=[contract], host=loaded.host)
        if result[contract].startswith("skipped"):
            pytest.skip(f"{contract}: {result[contract]}")

    def _analysis_contract(self, spec: Any, contract: str) -> None:
        """Run the analysis once per spec (three runs); report each contract from that outcome."""
        from lkadv.testing._analyses import check_analysis

        key = (id(self.plugin), spec.name)
        if key not in _ANALYSED:
            try:
                params = self.analysis_params.get(spec.name)
                _ANALYSED[key] = check_analysis(spec, model=self.analysis_model, params=params)
            except ContractViolation as exc:
                _ANALYSED[key] = exc
        outcome = _ANALYSED[key]
        if isinstance(outcome, ContractViolation):
            if outcome.contract == contract:
                raise outcome
            if _ANALYSIS_ORDER.index(contract) > _ANALYSIS_ORDER.index(outcome.contract):
                pytest.skip(f"{contract}: not checked, {outcome.contract} failed first")
