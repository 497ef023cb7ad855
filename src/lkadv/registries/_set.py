"""The full set of registries one plugin host fills."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from lkadv.registries._registry import Registry
from lkadv.specs import (
    AnalysisSpec,
    AttackSpec,
    CorruptionSpec,
    DatasetSpec,
    ExecutorSpec,
    ModelSpec,
    ReporterSpec,
)

__all__ = ["Registries"]


@dataclass
class Registries:
    """One registry per pluggable kind.

    Attributes:
        models: Classifiers.
        attacks: Adversarial attacks.
        corruptions: Common corruptions.
        datasets: Datasets.
        executors: Ways to run units.
        reporters: Output formats.
        analyses: Per-model studies.
    """

    models: Registry[ModelSpec] = field(default_factory=lambda: Registry("model"))
    attacks: Registry[AttackSpec] = field(default_factory=lambda: Registry("attack"))
    corruptions: Registry[CorruptionSpec] = field(default_factory=lambda: Registry("corruption"))
    datasets: Registry[DatasetSpec] = field(default_factory=lambda: Registry("dataset"))
    executors: Registry[ExecutorSpec] = field(default_factory=lambda: Registry("executor"))
    reporters: Registry[ReporterSpec] = field(default_factory=lambda: Registry("reporter"))
    analyses: Registry[AnalysisSpec] = field(default_factory=lambda: Registry("analysis"))

    def all(self) -> dict[str, Registry[Any]]:
        """Registries by kind name (``"models"``...)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def withdraw(self, provider: str) -> None:
        """Remove everything a plugin registered, from every registry."""
        for registry in self.all().values():
            registry.withdraw(provider)
