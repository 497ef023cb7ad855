"""Built-in plugin: the Fashion-MNIST mini zoo."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import ModelSpec
from lkadv.zoo._catalog import FM_MEAN, FM_STD, ZOO

if TYPE_CHECKING:
    from lkadv.metrics import ReportSection, Summary
    from lkadv.store import Ledger


__all__ = ["lkadv_register_models", "lkadv_report_sections", "load_zoo_model", "weights_dir"]


def weights_dir() -> Path:
    """Folder of the shipped zoo weights and their manifest."""
    return Path(str(resources.files("lkadv.zoo") / "weights"))


def _manifest() -> dict[str, dict[str, Any]]:
    path = weights_dir() / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def load_zoo_model(name: str) -> Any:
    """Build a zoo network and load its shipped (unmerged) weights, checking their sha256.

    Raises:
        WeightsError: If the weights are missing or do not match the manifest.
    """
    from lkadv.downloads import sha256_file
    from lkadv.errors import WeightsError
    from lkadv.models import load_into
    from lkadv.zoo._train import build

    entry = next(e for e in ZOO if e.name == name)
    meta = _manifest().get(name)
    path = weights_dir() / f"{name}.safetensors"
    if meta is None or not path.is_file():
        raise WeightsError(f"weights of {name} are not shipped in {weights_dir()}; run `python -m lkadv.zoo {name}`")
    if sha256_file(path) != meta["sha256"]:
        raise WeightsError(f"{path} does not match the sha256 in its manifest; reinstall lkadv")
    return load_into(build(entry), path)


@hookimpl
def lkadv_register_models(registry: Registry[ModelSpec]) -> None:
    """Register every mini-zoo model with its measured clean accuracy."""
    manifest = _manifest()
    for entry in ZOO:
        meta = manifest.get(entry.name, {})
        registry.register(
            ModelSpec(
                name=entry.name,
                family=entry.family,
                factory=load_zoo_model,
                factory_kwargs={"name": entry.name},
                label_space="fashion-mnist",
                num_classes=10,
                input_size=(1, 28, 28),
                mean=FM_MEAN,
                std=FM_STD,
                interpolation="bilinear",
                crop_pct=1.0,
                tags=frozenset(entry.tags) | {"mini-zoo"},
                kernel_sizes=entry.kernel_sizes,
                params=meta.get("params"),
                weights_id=f"sha256:{meta['sha256']}" if meta else "missing",
                clean_accuracy=meta.get("clean_accuracy"),
                clean_accuracy_on="fashion-mnist test (10,000 images)" if meta else None,
                description=entry.description,
                source="lkadv mini zoo (python -m lkadv.zoo)",
                anatomy="lkadv.zoo._anatomy:zoo_anatomy",
            )
        )
    registry.register_preset("mini-zoo", "tag:mini-zoo", description="every Fashion-MNIST mini-zoo model")
    registry.register_preset(
        "gauss-vs-plain", "fm-resnet,fm-resnet-gauss", description="the Gauss head against its plain twin"
    )


@hookimpl
def lkadv_report_sections(summary: Summary, ledger: Ledger) -> list[ReportSection] | None:
    """The Gauss head against its plain twin, when a run holds both."""
    from lkadv.zoo._gauss_report import gauss_section

    section = gauss_section(summary, ledger)
    return [section] if section is not None else None
