"""The plan: from run options and registries to cells (model x threat) and units (cell x shard), reading no file."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lkadv.attacks import resolve_members
from lkadv.config import RunOptions
from lkadv.engine import EngineOptions
from lkadv.errors import LkadvError
from lkadv.planner._cells import Cell, Unit, make_cell, material_key, preprocessing_for
from lkadv.planner._selection import attack_threats, corruption_threats, mce_baseline, plan_providers, select_models
from lkadv.planner._subsets import Subset
from lkadv.planner._threats import Threat
from lkadv.planner._transfer import source_of, transfer_threats
from lkadv.plugins import PluginHost
from lkadv.specs import AttackSpec, CorruptionSpec, DatasetSpec, ImageSet, LoadContext, ModelSpec, Preprocessing

__all__ = ["Plan", "PlanData", "make_plan"]


@dataclass(frozen=True)
class PlanData:
    """The samples a plan runs on: found, loaded and prepared by the run's data step.

    Attributes:
        root: The dataset root (None for shipped data).
        context: What the loader was given besides root and preprocessing.
        imagesets: The samples under each preprocessing the plan's models use, by its key.
        subset: The samples used.
        info: Facts about the data (listing counts, unreadable images left out,
            prepared-cache entries), recorded with the run.
    """

    root: Path | None
    context: LoadContext
    imagesets: Mapping[str, ImageSet]
    subset: Subset
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """Everything a run will compute.

    A plan is made from options and registries alone (:func:`make_plan` reads no
    file); :meth:`with_data` binds it to the samples the data step found, which
    keys its cells on the subset and gives it units.

    Attributes:
        options: The run options.
        dataset: The dataset spec.
        models: Selected models, in order.
        threats: Threats, in execution order (clean, corruptions, attacks by family and eps).
        cells: Every model x threat.
        batch_size: Batch size.
        shard_size: Samples per unit.
        providers: Plugin name and version behind each spec name.
        attack_specs: Selected attacks by name (composite members included).
        corruption_specs: Selected corruptions by name.
        mce_baseline: Model that normalizes CE/mCE in the report (None: AlexNet's
            published errors in the ImageNet label space, else no normalization).
        data: The samples, once the data step has run.
    """

    options: RunOptions
    dataset: DatasetSpec
    models: list[ModelSpec]
    threats: list[Threat]
    cells: list[Cell]
    batch_size: int
    shard_size: int
    providers: dict[str, str]
    attack_specs: dict[str, AttackSpec] = field(default_factory=dict)
    corruption_specs: dict[str, CorruptionSpec] = field(default_factory=dict)
    mce_baseline: str | None = None
    data: PlanData | None = None

    def _data(self) -> PlanData:
        if self.data is None:
            raise LkadvError("the plan has no data yet: run lkadv.runner.prepare_data(plan) first")
        return self.data

    @property
    def root(self) -> Path | None:
        """The dataset root (None for shipped data)."""
        return self._data().root

    @property
    def subset(self) -> Subset:
        """The samples used."""
        return self._data().subset

    @property
    def imageset(self) -> ImageSet:
        """The samples under the first model's preprocessing."""
        return self.imageset_for(self.cells[0].preprocessing)

    @property
    def context(self) -> LoadContext:
        """What the loader was given besides root and preprocessing."""
        return self._data().context

    @property
    def data_info(self) -> Mapping[str, Any]:
        """Facts about the data, recorded with the run."""
        return self._data().info

    @property
    def engine(self) -> EngineOptions:
        """How the attack engine computes (from the options; not part of any cell's identity)."""
        return EngineOptions(fold_bn=self.options.fold_bn, cpu_lanes=self.options.cpu_lanes)

    def imageset_for(self, preprocessing: Preprocessing) -> ImageSet:
        """The samples under one of the plan's preprocessings."""
        return self._data().imagesets[preprocessing.key()]

    def preprocessings(self) -> list[Preprocessing]:
        """The distinct eval transforms of the plan's models, first model first."""
        seen: dict[str, Preprocessing] = {}
        for cell in self.cells:
            seen.setdefault(cell.preprocessing.key(), cell.preprocessing)
        return list(seen.values())

    def with_data(self, data: PlanData) -> Plan:
        """The plan on these samples: each cell keyed on the subset drawn."""
        subset = {"subset": data.subset.digest, "n": len(data.subset)}
        cells = []
        for cell in self.cells:
            material = {**cell.material, "dataset": {**cell.material["dataset"], **subset}}
            cells.append(replace(cell, key=material_key(material), material=material))
        return replace(self, cells=cells, data=data)

    @property
    def n_shards(self) -> int:
        """Number of shards of the subset."""
        return -(-len(self.subset) // self.shard_size)

    def shard_bounds(self, shard: int) -> tuple[int, int]:
        """``(start, stop)`` subset indices of a shard."""
        start = shard * self.shard_size
        return start, min(len(self.subset), start + self.shard_size)

    def units(self) -> Iterator[Unit]:
        """Every unit, shard-major (all cells of shard 0 first)."""
        for shard in range(self.n_shards):
            start, stop = self.shard_bounds(shard)
            for cell in self.cells:
                yield Unit(cell, shard, start, stop)

    def identified(self, identities: Mapping[str, Mapping[str, Any]]) -> Plan:
        """The plan with each model's loaded identity in its cells' keys.

        Args:
            identities: By model name, what was actually built (weights and code
                digests, or the error that stopped the build).

        Returns:
            A plan whose cells are keyed on those identities (seeds unchanged).
        """
        cells = []
        for cell in self.cells:
            material = {**cell.material, "model": {**cell.material["model"], "loaded": identities[cell.model.name]}}
            source = source_of(cell.threat)
            if source is not None:  # the examples' maker is part of what they are
                material["source"] = {**material["source"], "loaded": identities[source]}
            cells.append(replace(cell, key=material_key(material), material=material))
        return replace(self, cells=cells)

    def describe(self) -> dict[str, Any]:
        """JSON-ready description stored with the run."""
        return {
            "options": self.options.as_dict(),
            "dataset": self.dataset.name,
            "root": str(self.root) if self.root else None,
            "subset": {
                "n": len(self.subset),
                "total": self.subset.total,
                "rule": self.subset.rule,
                "digest": self.subset.digest,
            },
            "models": [m.name for m in self.models],
            "threats": [t.as_dict() for t in self.threats],
            "cells": [c.key for c in self.cells],
            "batch_size": self.batch_size,
            "shard_size": self.shard_size,
            "providers": self.providers,
            "label_space": self.dataset.label_space,
            "mce_baseline": self.mce_baseline,
            "data": self.data_info,
        }


def make_plan(options: RunOptions, host: PluginHost) -> Plan:
    """Expand options into a plan: selections checked, cells made; no file is read.

    The samples come later, from the run's data step (:func:`lkadv.runner.prepare_data`
    then :meth:`Plan.with_data`), so a plan is cheap to build, print and send.

    Args:
        options: Run options.
        host: Loaded plugins.

    Returns:
        The plan (without data).

    Raises:
        SelectionError: On unknown names (exit status 2), with the closest names.
        ConfigError: On options that do not fit together.
    """
    dataset = host.registries.datasets.get(options.dataset)
    models = select_models(host, options, dataset)
    threats = [Threat.clean(), *corruption_threats(host, options), *attack_threats(host, options, dataset)]
    models, threats = transfer_threats(
        host, options, dataset, models, threats, lambda m: preprocessing_for(dataset, m).key()
    )
    if options.executor not in host.registries.executors:
        host.registries.executors.get(options.executor)  # raises with the closest names
    batch_size = options.batch_size or dataset.default_batch_size
    shard_size = options.shard_size or batch_size
    providers = plan_providers(host, dataset, models, threats)
    scope = (dataset, models)
    cells = [make_cell(options, scope, model, threat, providers, shard_size) for model in models for threat in threats]
    attack_specs: dict[str, AttackSpec] = {}
    for t in threats:
        if t.kind in ("attack", "transfer"):
            spec = attack_specs[t.name] = host.registries.attacks.get(t.name)
            config = dict(t.config)
            if spec.composite:
                for member, _ in resolve_members(config["members"], config["norm"], host.registries.attacks.get):
                    attack_specs.setdefault(member.name, member)
    corruption_specs = {t.name: host.registries.corruptions.get(t.name) for t in threats if t.kind == "corruption"}
    return Plan(
        options=options,
        dataset=dataset,
        models=models,
        threats=threats,
        cells=cells,
        batch_size=batch_size,
        shard_size=shard_size,
        providers=providers,
        attack_specs=attack_specs,
        corruption_specs=corruption_specs,
        mce_baseline=mce_baseline(options, dataset, models),
    )
