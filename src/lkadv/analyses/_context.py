"""Building what an analysis gets for one model: the merged classifier, anatomy, images, services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import torch

from lkadv.analyses._anatomy import Anatomy, anatomy_of
from lkadv.analyses._base import ModelContext
from lkadv.analyses._kernels import combine_branches
from lkadv.analyses._saliency_source import SaliencySource, default_saliency
from lkadv.config import RunOptions
from lkadv.datasets import resolve_root
from lkadv.models import build_classifier, identify_network
from lkadv.planner import balanced_subset
from lkadv.registries import Registries
from lkadv.specs import ModelSpec, Preprocessing
from lkadv.types import resolve

__all__ = ["Services", "anatomy_identity", "build_context"]


def _branch_kernels(network: torch.nn.Module, anatomy: Anatomy) -> dict[int, torch.Tensor]:
    modules = dict(network.named_modules())
    out: dict[int, torch.Tensor] = {}
    for i, site in enumerate(anatomy.large_kernels or ()):
        if all(b in modules for b in site.branches):
            out[i] = combine_branches([modules[b].weight for b in site.branches])  # type: ignore[misc]
    return out


def anatomy_identity(anatomy: Anatomy, needs: frozenset[str]) -> dict[str, Any]:
    """The parts an analysis reads, JSON-ready (part of its unit keys)."""
    return {
        part: [asdict(p) if not isinstance(p, str) else p for p in getattr(anatomy, part) or ()]
        for part in sorted(needs)
    }


class Services:
    """What analyses share across models in one invocation: images, saliency models, other datasets.

    Args:
        options: The run options (dataset, roots, limit, seed, device).
        registries: The plugin registries.
        device: Where models run.
    """

    def __init__(self, options: RunOptions, registries: Registries, device: torch.device) -> None:
        self.options, self.registries, self.device = options, registries, device
        self.dataset = registries.datasets.get(options.dataset)
        self._images: dict[str, tuple[torch.Tensor, torch.Tensor, dict[str, Any]]] = {}
        self._saliency: dict[tuple[str, int], SaliencySource] = {}
        self._other: dict[tuple[str, str], Any] = {}

    def images(self, spec: ModelSpec) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
        """The run dataset's seeded class-balanced subset at the model's preprocessing, and its identity."""
        pre = Preprocessing.for_model(spec)
        if pre.key() not in self._images:
            loader = resolve(self.dataset.loader)
            images = loader(resolve_root(self.dataset, self.options.data_roots), pre)
            limit = self.options.limit if self.options.limit is not None else self.dataset.default_limit
            subset = balanced_subset(list(images.ids), images.labels.tolist(), limit, self.options.seed)
            x = images.load(list(subset.positions))
            ident = {
                "dataset": self.dataset.name,
                "version": self.dataset.version,
                "preprocessing": pre.key(),
                "subset": subset.digest,
                "rule": subset.rule,
            }
            self._images[pre.key()] = (x, images.labels[list(subset.positions)], ident)
        return self._images[pre.key()]

    def saliency(self, name: str, head: int) -> SaliencySource:
        """A saliency model, loaded once (``auto``: the dataset's default)."""
        name = default_saliency(self.dataset.name) if name == "auto" else name
        if (name, head) not in self._saliency:
            self._saliency[(name, head)] = SaliencySource(name, self.registries.models, self.device, head)
        return self._saliency[(name, head)]

    def other_dataset(self, name: str, spec: ModelSpec) -> Any:
        """Another registered dataset at the model's preprocessing, root from the usual settings."""
        pre = Preprocessing.for_model(spec)
        if (name, pre.key()) not in self._other:
            other = self.registries.datasets.get(name)
            loader = resolve(other.loader)
            self._other[(name, pre.key())] = loader(resolve_root(other, self.options.data_roots), pre)
        return self._other[(name, pre.key())]


def build_context(spec: ModelSpec, services: Services) -> tuple[ModelContext, dict[str, Any]]:
    """Build, identify and merge a model; read its large branches before merging.

    Returns:
        The context and the model's identity (weights and code digests).
    """
    factory: Callable[..., Any] = resolve(spec.factory)
    network = factory(**spec.factory_kwargs)
    identity = {"name": spec.name, "weights_id": spec.weights_id, **identify_network(network, factory).as_dict()}
    unmerged = anatomy_of(network, spec.anatomy)
    branches = _branch_kernels(network, unmerged)
    model, _ = build_classifier(spec, network=network, device=services.device, channels_last=False)
    batch = services.options.batch_size or services.dataset.default_batch_size
    ctx = ModelContext(
        spec=spec,
        model=model,
        network=network,
        anatomy=anatomy_of(network, spec.anatomy),
        branch_kernels=branches,
        images=lambda: services.images(spec)[:2],
        seed=services.options.seed,
        device=services.device,
        batch_size=batch,
        services={"saliency": services.saliency, "dataset": services.other_dataset},
        unmerged=unmerged,
    )
    return ctx, identity
