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
    """

    plugin: ClassVar[Any] = None
    attack_params: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    skip_contracts: ClassVar[Mapping[str, str]] = {}

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
