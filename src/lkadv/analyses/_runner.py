"""``analyze``: plan every (model, analysis, unit), compute what is not stored, write tables and figures.

Planning builds every model and checks every analysis against it before
anything is written: a bad parameter, a saliency model that cannot be loaded or
an analysis named explicitly that no selected model can take stops here.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from lkadv._version import __version__
from lkadv.analyses._base import Analysis, AnalysisSkipped, ModelContext
from lkadv.analyses._context import Services, anatomy_identity, build_context
from lkadv.analyses._outputs import write_figure, write_tables
from lkadv.analyses._store import AnalysisStore
from lkadv.config import RunOptions
from lkadv.errors import ConfigError
from lkadv.executors import pick_device
from lkadv.plugins import PluginHost
from lkadv.specs import AnalysisSpec
from lkadv.types import resolve

__all__ = ["AnalyzeResult", "PlannedUnit", "analyze", "select_analyses"]


@dataclass(frozen=True)
class PlannedUnit:
    """One unit of one analysis on one model, with its key."""

    model: str
    analysis: str
    unit: str
    key: str
    identity: dict[str, Any]


@dataclass
class AnalyzeResult:
    """What an ``analyze`` call did.

    Attributes:
        run_dir: Where the store, tables and figures are.
        units: Every planned unit.
        computed: Units computed by this call.
        skipped: ``{"model", "analysis", "reason"}`` for each model an analysis could not take.
        tables: Rows by analysis name.
        files: Files written.
        seconds: Wall time.
    """

    run_dir: Path
    units: list[PlannedUnit] = field(default_factory=list)
    computed: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def _is_explicit(term: str) -> bool:
    return not (term == "all" or any(c in term for c in "*?[") or ":" in term)


def select_analyses(
    host: PluginHost, selector: str, params: Mapping[str, Mapping[str, Any]]
) -> list[tuple[AnalysisSpec, Analysis, dict[str, Any], bool]]:
    """The selected analyses, each built from its resolved parameters.

    Returns:
        ``(spec, analysis, resolved params, named explicitly)`` per analysis.

    Raises:
        ConfigError: On parameters of analyses not selected, unknown parameters or bad values.
    """
    registry = host.registries.analyses
    specs = registry.select(selector)
    names = {s.name for s in specs}
    explicit = {t.strip() for t in selector.split(",") if _is_explicit(t.strip())}
    stray = sorted(set(params) - names)
    if stray:
        raise ConfigError(f"--analysis-param names analyses that are not selected: {stray} (selected: {sorted(names)})")
    out = []
    for spec in specs:
        given = dict(params.get(spec.name, {}))
        unknown = sorted(set(given) - set(spec.params))
        if unknown:
            raise ConfigError(f"analysis {spec.name!r} has no parameter(s) {unknown}; it takes {sorted(spec.params)}")
        resolved = {k: p.parse(f"{spec.name}.{k}", given.get(k, p.default)) for k, p in spec.params.items()}
        factory = resolve(spec.run)
        out.append((spec, factory(**resolved), resolved, spec.name in explicit))
    return out


def _key(identity: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


def _plan_model(
    ctx: ModelContext,
    model_id: dict[str, Any],
    chosen: list[tuple[AnalysisSpec, Analysis, dict[str, Any], bool]],
    services: Services,
    result: AnalyzeResult,
) -> list[PlannedUnit]:
    planned: list[PlannedUnit] = []
    for spec, analysis, params, _ in chosen:
        try:
            missing = [p for p in sorted(spec.needs) if getattr(ctx.anatomy, p) is None]
            if missing:
                raise AnalysisSkipped(f"the model declares no {', '.join(missing)} and none could be discovered")
            if "own-data" not in spec.tags and not services.dataset.accepts_model(ctx.spec):
                raise AnalysisSkipped(
                    f"dataset {services.dataset.name!r} cannot score label space {ctx.spec.label_space!r}"
                )
            units = analysis.units(ctx)
            base = {
                "model": model_id,
                "analysis": {"name": spec.name, "version": spec.version, "params": params},
                "extra": analysis.identity(ctx),
                "anatomy": anatomy_identity(ctx.anatomy, spec.needs),
                "data": None if "own-data" in spec.tags else services.images(ctx.spec)[2],
                "seed": services.options.seed,
                "device": services.device.type,
                "versions": {"lkadv": __version__, "torch": torch.__version__},
            }
        except AnalysisSkipped as exc:
            result.skipped.append({"model": ctx.spec.name, "analysis": spec.name, "reason": str(exc)})
            continue
        for unit in units:
            identity = {**base, "unit": unit}
            planned.append(PlannedUnit(ctx.spec.name, spec.name, unit, _key(identity), identity))
    return planned


def _check_explicit(chosen: list[tuple[AnalysisSpec, Analysis, dict[str, Any], bool]], result: AnalyzeResult) -> None:
    for spec, _, _, explicit in chosen:
        if explicit and not any(u.analysis == spec.name for u in result.units):
            reasons = "; ".join(f"{s['model']}: {s['reason']}" for s in result.skipped if s["analysis"] == spec.name)
            raise ConfigError(f"analysis {spec.name!r} cannot run on any selected model ({reasons})")


def analyze(
    options: RunOptions,
    analyses: str = "all",
    params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    host: PluginHost | None = None,
    progress: Callable[[PlannedUnit, float], None] | None = None,
) -> AnalyzeResult:
    """Run the selected analyses on the selected models; a rerun computes nothing already stored.

    Args:
        options: Models, dataset, limit, seed, device, batch size, run directory, data roots.
        analyses: Analysis selector (``all``, names, globs).
        params: ``{analysis: {param: value}}``.
        host: Plugin host (default: a fresh one).
        progress: Called after each computed unit with its seconds.

    Raises:
        ConfigError: Bad selection or parameters (exit 2); nothing is written then.
    """
    start = time.perf_counter()
    host = host or PluginHost()
    chosen = select_analyses(host, analyses, params or {})
    services = Services(options, host.registries, pick_device(options.device))
    result = AnalyzeResult(Path(options.run_dir))
    contexts = {}
    for spec in host.registries.models.select(options.models):
        ctx, model_id = build_context(spec, services)
        contexts[spec.name] = ctx
        result.units += _plan_model(ctx, model_id, chosen, services, result)
    _check_explicit(chosen, result)
    by_name = {spec.name: analysis for spec, analysis, _, _ in chosen}
    with AnalysisStore(result.run_dir) as store:
        done = store.done(u.key for u in result.units)
        for unit in result.units:
            if unit.key in done:
                continue
            t0 = time.perf_counter()
            value = by_name[unit.analysis].compute(contexts[unit.model], unit.unit)
            store.put(unit.key, unit.model, unit.analysis, unit.unit, unit.identity, value, time.perf_counter() - t0)
            result.computed += 1
            if progress is not None:
                progress(unit, time.perf_counter() - t0)
        stored = store.results(u.key for u in result.units)
    _write_outputs(result, chosen, stored)
    result.seconds = time.perf_counter() - start
    return result


def _write_outputs(
    result: AnalyzeResult, chosen: list[tuple[AnalysisSpec, Analysis, dict[str, Any], bool]], stored: dict[str, Any]
) -> None:
    folder = result.run_dir / "analyses"
    for spec, analysis, _, _ in chosen:
        by_model: dict[str, dict[str, Any]] = {}
        for u in result.units:
            if u.analysis == spec.name:
                by_model.setdefault(u.model, {})[u.unit] = stored[u.key]
        skipped = [s for s in result.skipped if s["analysis"] == spec.name]
        rows = [row for model, units in by_model.items() for row in analysis.rows(model, units)]
        result.tables[spec.name] = rows
        result.files += write_tables(folder, spec.name, rows, skipped)
        if by_model:
            result.files += write_figure(folder, spec.name, analysis, by_model)
