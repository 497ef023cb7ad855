"""The conformance kit checks analyses, a third party's included, and catches a broken one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from lkadv.analyses import ModelContext
from lkadv.plugins import PluginHost
from lkadv.specs import AnalysisSpec, Param
from lkadv.testing import CONTRACTS, ContractViolation, PluginConformance, check_analysis, check_plugin

_calls = {"n": 0}


class MeanLogit:
    """A third-party analysis: the mean top logit, per unit of a fixed split."""

    def __init__(self, parts: int = 2, drift: bool = False) -> None:
        self.parts, self.drift = parts, drift

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        return {}

    def units(self, ctx: ModelContext) -> list[str]:
        return [f"part:{i}" for i in range(self.parts)]

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        x, _ = ctx.images()
        part = x[int(unit.split(":")[1]) :: self.parts]
        _calls["n"] += 1
        value = float(ctx.model(part).amax(1).mean())
        return {"mean_top_logit": value + (_calls["n"] if self.drift else 0.0)}

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{"model": model, "unit": u, **r} for u, r in sorted(results.items())]

    def plot(self, figure: Any, results: Any) -> None:
        ax = figure.subplots()
        for model, units in results.items():
            ax.plot([r["mean_top_logit"] for r in units.values()], label=model)


def _spec(**params: Any) -> AnalysisSpec:
    return AnalysisSpec(
        name="mean-logit",
        run=lambda **kw: MeanLogit(**{**kw, **params}),
        params={"parts": Param(default=2, type="int", minimum=1)},
    )


def test_a_third_party_analysis_passes() -> None:
    report = check_analysis(_spec(), model="fm-resnet", limit=8)
    assert set(report) >= {"analysis.resume", "analysis.determinism", "analysis.outputs"}


def test_a_drifting_analysis_fails_determinism() -> None:
    with pytest.raises(ContractViolation, match="analysis.determinism"):
        check_analysis(_spec(drift=True), model="fm-resnet", limit=8)


def test_a_builtin_analysis_passes() -> None:
    spec = PluginHost(entry_points=False).registries.analyses.get("kernel-attention")
    assert check_analysis(spec, model="fm-replknet")["analysis.units"] == "ok"


def test_an_analysis_no_model_can_take_fails_units() -> None:
    spec = PluginHost(entry_points=False).registries.analyses.get("kernel-attention")
    with pytest.raises(ContractViolation, match="analysis.units"):
        check_analysis(spec, model="fm-resnet")


def _plugin_object() -> object:
    import types

    from lkadv.plugins import hookimpl

    @hookimpl
    def lkadv_register_analyses(registry: Any) -> None:
        registry.register(_spec())

    return types.SimpleNamespace(lkadv_register_analyses=lkadv_register_analyses, __name__="mean_logit_plugin")


PLUGIN = _plugin_object()


class TestAThirdPartyAnalysisPluginConforms(PluginConformance):
    plugin = PLUGIN
    analysis_model = "fm-resnet"


def test_check_plugin_runs_the_analysis_contracts() -> None:
    report = check_plugin(PLUGIN)
    assert report["mean-logit"]["analysis.determinism"] == "ok"
    assert set(report["mean-logit"]) == {c for c in CONTRACTS if c.startswith("analysis.")}
