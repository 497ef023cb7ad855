"""Cells and units: what a plan computes, and the key material that identifies each cell."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lkadv._version import __version__
from lkadv.config import RunOptions
from lkadv.planner._seeds import derive_seed
from lkadv.planner._threats import Threat
from lkadv.planner._transfer import source_of
from lkadv.specs import DatasetSpec, ModelSpec, Preprocessing
from lkadv.types import resolve

__all__ = ["Cell", "Unit", "make_cell", "material_key", "preprocessing_for"]


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


def preprocessing_for(dataset: DatasetSpec, model: ModelSpec) -> Preprocessing:
    """The model's eval transform, after the dataset's override (ImageNet-C's no-resize rule)."""
    pre = Preprocessing.for_model(model)
    if dataset.adjust_preprocessing is None:
        return pre
    adjust = dataset.adjust_preprocessing
    fn = resolve(adjust)
    adjusted: Preprocessing = fn(pre)
    return adjusted


def material_key(material: dict[str, Any]) -> str:
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


def make_cell(
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
    return Cell(material_key(material), model, threat, pre, seed, material)
