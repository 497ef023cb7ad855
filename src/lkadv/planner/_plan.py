"""From run options to a plan: cells (model x threat) and units (cell x shard)."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lkadv._version import __version__
from lkadv.attacks import resolve_members
from lkadv.config import RunOptions
from lkadv.corruptions import protocol_config
from lkadv.engine import EngineOptions
from lkadv.errors import ConfigError, LkadvError
from lkadv.planner._presets import expand_attack_presets
from lkadv.planner._seeds import derive_seed
from lkadv.planner._subsets import Subset
from lkadv.planner._threats import Threat
from lkadv.planner._transfer import source_of, transfer_threats
from lkadv.plugins import PluginHost
from lkadv.registries import Registry
from lkadv.specs import AttackSpec, CorruptionSpec, DatasetSpec, ImageSet, LoadContext, ModelSpec, Preprocessing
from lkadv.types import resolve

__all__ = ["Cell", "Plan", "PlanData", "Unit", "make_plan", "preprocessing_for"]


@dataclass(frozen=True)
class Cell:
    """One model under one threat on the run's samples.

    Attributes:
        key: sha256 of ``material``: equal keys mean equal results.
        model: The model spec.
        threat: The threat.
        preprocessing: The model's eval transform.
        seed: The cell's seed (derived from the run seed).
        material: The fully resolved description that ``key`` hashes.
    """

    key: str
    model: ModelSpec
    threat: Threat
    preprocessing: Preprocessing
    seed: int
    material: dict[str, Any] = field(compare=False, hash=False)


@dataclass(frozen=True)
class Unit:
    """A cell on one shard of samples: the unit of scheduling, storage and resume.

    Attributes:
        cell: The cell.
        shard: Shard number.
        start: First subset index of the shard.
        stop: One past its last subset index.
    """

    cell: Cell
    shard: int
    start: int
    stop: int

    @property
    def seed(self) -> int:
        """Seed of this unit's generator."""
        return derive_seed(self.cell.seed, "shard", self.shard)

    def __len__(self) -> int:
        return self.stop - self.start


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
            cells.append(replace(cell, key=_material_key(material), material=material))
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
            cells.append(replace(cell, key=_material_key(material), material=material))
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


def preprocessing_for(dataset: DatasetSpec, model: ModelSpec) -> Preprocessing:
    """The model's eval transform, after the dataset's override (ImageNet-C's no-resize rule)."""
    pre = Preprocessing.for_model(model)
    if dataset.adjust_preprocessing is None:
        return pre
    adjust = dataset.adjust_preprocessing
    fn = resolve(adjust)
    adjusted: Preprocessing = fn(pre)
    return adjusted


def _provider(host: PluginHost, registry: Registry[Any], name: str) -> str:
    plugin = registry.provider(name)
    info = host.plugins.get(plugin)
    return f"{plugin}@{info.version if info else 'unknown'}"


def _select_models(host: PluginHost, options: RunOptions, dataset: DatasetSpec) -> list[ModelSpec]:
    registry = host.registries.models
    models = registry.select(options.models, where=dataset.accepts_model)
    wrong = [m for m in models if not dataset.accepts_model(m)]
    if wrong:
        accepted = ", ".join(dataset.accepts or (dataset.label_space,))
        listing = "; ".join(f"{m.name} outputs {m.label_space}" for m in wrong)
        raise ConfigError(f"dataset {dataset.name!r} scores label space(s) {accepted}, but {listing}")
    return models


def _attack_threats(host: PluginHost, options: RunOptions, dataset: DatasetSpec) -> list[Threat]:
    options, preset_eps, _ = expand_attack_presets(options)
    if options.attacks is None:
        return []
    specs: list[AttackSpec] = host.registries.attacks.select(options.attacks)
    unknown = sorted(set(options.attack_params) - {s.name for s in specs})
    if unknown:
        raise ConfigError(f"parameters given for attack(s) {unknown} that the run does not select")
    threats = []
    for spec in specs:
        raw = {**(options.attack_defaults.get(spec.name) or {}), **(options.attack_params.get(spec.name) or {})}
        values = {k: _sweep(v) for k, v in raw.items()}
        swept = [k for k, v in values.items() if len(v) > 1]
        for combo in itertools.product(*values.values()):
            overrides = dict(zip(values, combo, strict=True))
            config = spec.resolve(overrides)
            norm = config["norm"]
            grid = options.eps if options.eps is not None else preset_eps.get(spec.name, dataset.default_eps.get(norm))
            if not grid:
                raise ConfigError(f"dataset {dataset.name!r} has no default {norm} eps grid; give --eps")
            if norm == "linf" and max(grid) > 1:
                big = max(grid)
                hint = f"; did you mean {big:g}/255?" if big == int(big) and big <= 255 else ""
                raise ConfigError(
                    f"eps {big:g} for the L-inf attack {spec.name!r}: radii are in [0, 1] pixel units and "
                    f"anything above 1 covers every image{hint}"
                )
            if spec.composite:
                config["ensemble"] = _ensemble_id(host, spec, config)
            config.update(
                backend=spec.backend,
                backend_version=spec.backend_version,
                precision=options.precision,
                seed=options.seed,
            )
            items = tuple(sorted(config.items()))
            variant = ",".join(f"{k}={config[k] if k in config else overrides[k]}" for k in swept)
            threats += [Threat("attack", spec.name, items, eps=float(e), variant=variant) for e in sorted(grid)]
    labels = [t.label for t in threats]
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    if dupes:
        raise ConfigError(f"attack parameters give the same column twice: {dupes}; sweep distinct values")
    return threats


def _sweep(value: Any) -> list[Any]:
    """A parameter sweep: a list (TOML) or ``a|b|c`` (flags, environment); else one value."""
    if isinstance(value, list | tuple):
        return list(value) or [None]
    if isinstance(value, str) and "|" in value:
        return [v.strip() for v in value.split("|")]
    return [value]


def _ensemble_id(host: PluginHost, spec: AttackSpec, config: dict[str, Any]) -> str:
    """The full identity of a composite attack's members: ``pgd[backend=lkadv,...]+fgsm[...]``."""
    ids = []
    for member, member_config in resolve_members(config["members"], config["norm"], host.registries.attacks.get):
        member_config.update(backend=member.backend, backend_version=member.backend_version)
        ids.append(Threat("attack", member.name, tuple(sorted(member_config.items()))).family)
    return "+".join(ids)


def _corruption_threats(host: PluginHost, options: RunOptions) -> list[Threat]:
    if options.corruptions is None:
        return []
    specs: list[CorruptionSpec] = host.registries.corruptions.select(options.corruptions)
    threats = []
    for spec in specs:
        config: dict[str, Any] = {"version": spec.version, **protocol_config(options.corruption_protocol)}
        if spec.random:
            config["seed"] = options.seed
        missing = [s for s in options.severities if s not in spec.severities]
        if missing:
            raise ConfigError(
                f"corruption {spec.name!r} has severities {list(spec.severities)}; "
                f"{', '.join(map(str, missing))} is not one of them (--severities)"
            )
        sevs = list(options.severities)
        threats += [Threat("corruption", spec.name, tuple(sorted(config.items())), severity=s) for s in sevs]
    return threats


def _mce_baseline(options: RunOptions, dataset: DatasetSpec, models: list[ModelSpec]) -> str | None:
    """The model that normalizes mCE: named by the run, else the dataset's default if it runs."""
    names = [m.name for m in models]
    if options.mce_baseline is not None:
        if options.mce_baseline not in names:
            raise ConfigError(
                f"--mce-baseline {options.mce_baseline!r} is not a model of this run ({', '.join(names)}); "
                "add it to --models or name one of them"
            )
        return options.mce_baseline
    if dataset.mce_baseline is not None and dataset.mce_baseline in names:
        return dataset.mce_baseline
    return None


def _material_key(material: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()


def _model_contract(model: ModelSpec) -> dict[str, Any]:
    """Every spec field that can change an outcome (the eval transform is keyed on its own)."""
    return {
        "label_space": model.label_space,
        "num_classes": model.num_classes,
        "mean": list(model.mean),
        "std": list(model.std),
        "factory": model.factory if isinstance(model.factory, str) else _qualname(model.factory),
        "factory_kwargs": {k: repr(v) for k, v in sorted(model.factory_kwargs.items())},
    }


def _source_material(models: list[ModelSpec], source: str, providers: Mapping[str, str]) -> dict[str, Any]:
    spec = next(m for m in models if m.name == source)
    return {
        "name": spec.name,
        "weights": spec.weights_id,
        "provider": providers[f"model:{spec.name}"],
        "contract": _model_contract(spec),
        "loaded": None,  # filled by Plan.identified once the model is built
    }


def _qualname(obj: object) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__name__)}"


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
    models = _select_models(host, options, dataset)
    threats = [Threat.clean(), *_corruption_threats(host, options), *_attack_threats(host, options, dataset)]
    models, threats = transfer_threats(
        host, options, dataset, models, threats, lambda m: preprocessing_for(dataset, m).key()
    )
    if options.executor not in host.registries.executors:
        host.registries.executors.get(options.executor)  # raises with the closest names
    batch_size = options.batch_size or dataset.default_batch_size
    shard_size = options.shard_size or batch_size
    providers = _providers(host, dataset, models, threats)
    scope = (dataset, models)
    cells = [_cell(options, scope, model, threat, providers, shard_size) for model in models for threat in threats]
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
        mce_baseline=_mce_baseline(options, dataset, models),
    )


def _providers(
    host: PluginHost, dataset: DatasetSpec, models: list[ModelSpec], threats: list[Threat]
) -> dict[str, str]:
    registries = host.registries
    providers = {f"model:{m.name}": _provider(host, registries.models, m.name) for m in models}
    providers[f"dataset:{dataset.name}"] = _provider(host, registries.datasets, dataset.name)
    for t in threats:
        if t.kind in ("attack", "transfer"):
            providers[f"{t.kind}:{t.name}"] = _provider(host, registries.attacks, t.name)
        elif t.kind == "corruption":
            providers[f"corruption:{t.name}"] = _provider(host, registries.corruptions, t.name)
    return providers


def _cell(
    options: RunOptions,
    scope: tuple[DatasetSpec, list[ModelSpec]],
    model: ModelSpec,
    threat: Threat,
    providers: Mapping[str, str],
    shard_size: int,
) -> Cell:
    """A cell keyed on everything known before data and weights load (both are added later).

    ``scope`` is the run's dataset and models (a transfer cell's source is one of them).
    """
    dataset, models = scope
    pre = preprocessing_for(dataset, model)
    random = threat.kind in ("attack", "transfer") or (threat.kind == "corruption" and "seed" in dict(threat.config))
    material: dict[str, Any] = {
        "model": {
            "name": model.name,
            "weights": model.weights_id,
            "provider": providers[f"model:{model.name}"],
            "contract": _model_contract(model),
            "loaded": None,  # filled by Plan.identified once the model is built
        },
        "dataset": {
            "name": dataset.name,
            "version": dataset.version,
            "subset": None,  # filled by Plan.with_data once the samples are drawn
            "n": None,
            "provider": providers[f"dataset:{dataset.name}"],
        },
        "threat": threat.as_dict(),
        "threat_provider": providers.get(f"{threat.kind}:{threat.name}"),
        "preprocessing": pre.key(),
        "scoring": "fp32",
        "shard_size": shard_size if random else None,
        "seed": options.seed,
        "lkadv": __version__,
    }
    source = source_of(threat)
    if source is not None:
        material["source"] = _source_material(models, source, providers)
    seed = derive_seed(options.seed, model.name, dataset.name, threat.id)
    return Cell(_material_key(material), model, threat, pre, seed, material)
