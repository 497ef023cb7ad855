"""Labelled images in a model's label space, from whichever dataset can provide them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import torch

from lkadv.datasets import call_loader
from lkadv.errors import DataError
from lkadv.planner import preprocessing_for
from lkadv.specs import LoadContext, ModelSpec
from lkadv.types import resolve

if TYPE_CHECKING:
    from lkadv.plugins import PluginHost

__all__ = ["LabelledSample", "default_host", "labelled_sample"]


@dataclass(frozen=True)
class LabelledSample:
    """A few labelled images at a model's input size.

    Attributes:
        x: Float32 ``[N, C, H, W]`` in [0, 1].
        y: Int64 labels in the dataset's class space.
        num_classes: Number of dataset classes (chance is ``1 / num_classes``).
        head: Maps model logits to dataset class logits (None: identity).
        source: Where the images come from, for messages.
    """

    x: torch.Tensor
    y: torch.Tensor
    num_classes: int
    head: Callable[[torch.Tensor], torch.Tensor] | None
    source: str


@lru_cache(maxsize=1)
def default_host() -> PluginHost:
    """Every installed plugin, loaded once per process (for its datasets)."""
    from lkadv.plugins import PluginHost

    return PluginHost()


def labelled_sample(spec: ModelSpec, host: PluginHost, n: int) -> LabelledSample | str:
    """Evenly spaced samples of the first reachable dataset that scores ``spec``'s logits.

    Args:
        spec: The model.
        host: Plugin host whose datasets are searched.
        n: Number of images.

    Returns:
        The sample, or a sentence saying why there is none (for a skip message).
    """
    candidates = [d for d in host.registries.datasets if d.accepts_model(spec)]
    if not candidates:
        return f"no registered dataset scores label space {spec.label_space!r}"
    from lkadv.datasets import resolve_root

    missing = []
    for dataset in candidates:
        try:
            root = resolve_root(dataset)
            # As a run loads it: the dataset's own preprocessing rule, a LoadContext if it takes one.
            imageset = call_loader(dataset, root, preprocessing_for(dataset, spec), LoadContext())
        except DataError:
            missing.append(f"{dataset.name} (set {dataset.env_var})")
            continue
        total = len(imageset.ids)
        step = max(1, total // n)
        positions = list(range(0, total, step))[:n]
        head = dataset.head
        return LabelledSample(
            x=imageset.load(positions),
            y=imageset.labels[positions],
            num_classes=dataset.num_classes,
            head=resolve(head),
            source=f"{len(positions)} images of dataset {dataset.name!r}",
        )
    return f"no dataset for label space {spec.label_space!r} is reachable: {', '.join(missing)}"
