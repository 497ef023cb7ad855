"""Conformance checks of an analysis plugin: units, JSON results, resume, determinism, figure."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lkadv.errors import LkadvError
from lkadv.specs import AnalysisSpec
from lkadv.testing._contracts import check_described, select_contracts
from lkadv.testing._errors import ContractViolation

__all__ = ["check_analysis"]


def _run(spec: AnalysisSpec, model: str, params: Mapping[str, Any], run_dir: Path, limit: int) -> Any:
    from lkadv.analyses import analyze
    from lkadv.config import load_options
    from lkadv.plugins import PluginHost

    host = PluginHost(entry_points=False)
    if spec.name not in host.registries.analyses:
        host.registries.analyses.register(spec)
    options = load_options({"models": model, "limit": str(limit), "run_dir": run_dir, "device": "cpu"}, env={})
    return analyze(options, spec.name, {spec.name: dict(params)} if params else {}, host=host)


def _metadata(spec: AnalysisSpec) -> None:
    check_described("analysis.metadata", f"analysis {spec.name!r}", spec)


def check_analysis(
    spec: AnalysisSpec, *, model: str = "fm-replknet", params: Mapping[str, Any] | None = None, limit: int = 16
) -> dict[str, str]:
    """Check an AnalysisSpec on a mini-zoo model, offline, in temporary run directories.

    Args:
        spec: The spec as the plugin registers it.
        model: The mini-zoo model to analyse (it must be one the analysis can take).
        params: Parameters (``{name: value}``), to keep the check short.
        limit: Images.

    Returns:
        ``{contract: "ok"}``.

    Raises:
        ContractViolation: On the first broken contract.
    """
    _metadata(spec)
    params = params or {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            first = _run(spec, model, params, Path(tmp) / "a", limit)
        except LkadvError as exc:
            raise ContractViolation("analysis.units", f"analysis {spec.name!r} on {model!r}: {exc}") from exc
        mine = [u for u in first.units if u.analysis == spec.name]
        if not mine:
            raise ContractViolation(
                "analysis.units", f"analysis {spec.name!r} planned no unit on {model!r}: {first.skipped}"
            )
        rows = first.tables.get(spec.name)
        if not rows or not all(isinstance(r, dict) for r in rows):
            raise ContractViolation(
                "analysis.rows", f"analysis {spec.name!r}: rows() gave {rows!r}, not a list of dicts"
            )
        suffixes = {f.suffix for f in first.files if f.stem == spec.name}
        if not {".svg", ".png", ".csv", ".md", ".json"} <= suffixes:
            raise ContractViolation("analysis.outputs", f"analysis {spec.name!r} wrote only {sorted(suffixes)}")
        again = _run(spec, model, params, Path(tmp) / "a", limit)
        if again.computed:
            raise ContractViolation(
                "analysis.resume", f"analysis {spec.name!r}: a rerun computed {again.computed} units"
            )
        other = _run(spec, model, params, Path(tmp) / "b", limit)
        if other.tables.get(spec.name) != rows:
            raise ContractViolation("analysis.determinism", f"analysis {spec.name!r}: two runs with one seed differ")
    return dict.fromkeys(select_contracts("analysis", None), "ok")
