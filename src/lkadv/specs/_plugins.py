"""Specs of the pluggable machinery: executors, reporters and analyses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lkadv.specs._attack import Param
from lkadv.specs._common import check, check_factory, check_name

__all__ = ["AnalysisSpec", "ExecutorSpec", "ReporterSpec"]


@dataclass(frozen=True, kw_only=True)
class ExecutorSpec:
    """A way to run units (in-process, one process per GPU, a ray cluster...).

    Attributes:
        name: Registry name (``--executor NAME``).
        factory: Callable (or reference) returning an object with
            ``run(plan, ledger, hooks) -> None``.
        description: One line for listings.
    """

    name: str
    factory: Callable[..., Any] | str
    description: str = ""

    def validate(self) -> None:
        """Check the fields; raises SpecError naming the field."""
        check_name("ExecutorSpec", self.name)
        check_factory("ExecutorSpec", self.name, self.factory)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "description": self.description}


@dataclass(frozen=True, kw_only=True)
class ReporterSpec:
    """An output format of results.

    Attributes:
        name: Registry name (``--format NAME``).
        render: Callable (or reference) ``(summary) -> str``; with ``per_sample``,
            ``(rows) -> str | bytes`` over the run's per-sample rows
            (:func:`lkadv.store.sample_rows`).
        suffix: File suffix when written to a file.
        description: One line for listings.
        per_sample: Whether the format exports per-sample rows instead of the summary.
    """

    name: str
    render: Callable[..., str | bytes] | str
    suffix: str = ".txt"
    description: str = ""
    per_sample: bool = False

    def validate(self) -> None:
        """Check the fields; raises SpecError naming the field."""
        check_name("ReporterSpec", self.name)
        check_factory("ReporterSpec", self.name, self.render, "render")
        check(self.suffix.startswith("."), "ReporterSpec", self.name, "suffix", "must start with '.'")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "suffix": self.suffix,
            "description": self.description,
            "per_sample": self.per_sample,
        }


@dataclass(frozen=True, kw_only=True)
class AnalysisSpec:
    """A per-model study that is not a matrix cell (occlusion, frequency, lesion...).

    Attributes:
        name: Registry name.
        run: Callable (or reference) taking the resolved parameters as keywords and
            returning an :class:`lkadv.analyses.Analysis` (units, compute, rows, plot).
        params: Parameter schema with defaults (``--analysis-param NAME.PARAM=VALUE``).
        needs: Parts of the model's anatomy it reads: ``large_kernels``, ``blocks``,
            ``features``; a model that declares none of a needed part is skipped with the reason.
        version: Version of the analysis code, part of every unit key.
        tags: Selector tags.
        description: One line for listings.
    """

    name: str
    run: Callable[..., Any] | str
    params: Mapping[str, Param] = field(default_factory=dict)
    needs: frozenset[str] = frozenset()
    version: str = "1"
    tags: frozenset[str] = frozenset()
    description: str = ""

    def validate(self) -> None:
        """Check the fields; raises SpecError naming the field."""
        check_name("AnalysisSpec", self.name)
        check_factory("AnalysisSpec", self.name, self.run, "run")
        known = {"large_kernels", "blocks", "features"}
        check(self.needs <= known, "AnalysisSpec", self.name, "needs", f"must be a subset of {sorted(known)}")
        for pname, param in self.params.items():
            check(isinstance(param, Param), "AnalysisSpec", self.name, f"params.{pname}", "must be a Param")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "tags": sorted(self.tags),
            "description": self.description,
            "needs": sorted(self.needs),
            "version": self.version,
            "params": {k: p.default for k, p in self.params.items()},
        }
