"""What an analysis needs to know about a network: its anatomy.

A model declares it through its ModelSpec's ``anatomy`` callable ``(network) ->
dict``, or its network through a method ``lkadv_anatomy() -> dict`` (plain data,
so a plugin's model code needs no lkadv import)::

    {"large_kernels": [{"stage": 0, "branches": ["...lkb_origin.conv"], "merged": "...lkb_reparam"}],
     "blocks": [{"modules": ["stages.0.0", "stages.0.1"], "stage": 0}],
     "features": ["stem", "stages.0.0", ...]}

A key that is absent means "not declared"; an empty list means "declared: none".
Networks that declare nothing are discovered from their structure (timm's
``blocks``, ``stages.N.blocks``, ``feature_info``, depthwise convolutions), and
an analysis that needs a part nobody declared or discovered skips the model with
the reason, rather than guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from lkadv.errors import ModelContractError
from lkadv.types import resolve

__all__ = ["Anatomy", "BlockGroup", "KernelSite", "anatomy_of"]


@dataclass(frozen=True)
class KernelSite:
    """One large depthwise kernel.

    Attributes:
        stage: Stage index (0-based).
        branches: Convolutions of the large branch before merging; their kernels
            are centre-padded to the largest and summed (SLaK's K x k and k x K pair).
        merged: The convolution that holds the merged kernel after re-parameterization.
    """

    stage: int
    branches: tuple[str, ...]
    merged: str


@dataclass(frozen=True)
class BlockGroup:
    """Modules skipped together by a lesion (RepLKNet: a RepLK block and its ConvFFN).

    Attributes:
        modules: Module names, each replaced by identity.
        stage: Stage index (0-based).
    """

    modules: tuple[str, ...]
    stage: int


@dataclass(frozen=True)
class Anatomy:
    """The parts of a network the analyses use; ``None`` means unknown.

    Attributes:
        large_kernels: Large depthwise kernels.
        blocks: Skippable block groups.
        features: Modules whose outputs are feature maps, in depth order.
        source: ``"declared"`` or ``"discovered"``.
    """

    large_kernels: tuple[KernelSite, ...] | None
    blocks: tuple[BlockGroup, ...] | None
    features: tuple[str, ...] | None
    source: str

    def need(self, part: str, model: str) -> Any:
        """The part, or an error saying the model does not declare it.

        Raises:
            ModelContractError: If the part is unknown.
        """
        value = getattr(self, part)
        if value is None:
            raise ModelContractError(
                f"model {model!r} declares no {part.replace('_', ' ')} and none could be discovered; "
                "its network needs an lkadv_anatomy() method (see docs/analyses.md)"
            )
        return value


def _check_names(network: nn.Module, names: list[str], where: str) -> None:
    known = dict(network.named_modules())
    missing = [n for n in names if n not in known]
    if missing:
        raise ModelContractError(
            f"lkadv_anatomy() of {type(network).__name__} names unknown modules in {where}: {missing}"
        )


def _declared(network: nn.Module, data: dict[str, Any]) -> Anatomy:
    kernels = blocks = features = None
    if "large_kernels" in data:
        # Kernel names are checked where they are read: branches exist only before
        # merging and merged convolutions only after.
        kernels = tuple(
            KernelSite(int(k["stage"]), tuple(k["branches"]), str(k["merged"])) for k in data["large_kernels"]
        )
    if "blocks" in data:
        blocks = tuple(BlockGroup(tuple(b["modules"]), int(b["stage"])) for b in data["blocks"])
        _check_names(network, [m for b in blocks for m in b.modules], "blocks")
    if "features" in data:
        features = tuple(str(f) for f in data["features"])
        _check_names(network, list(features), "features")
    return Anatomy(kernels, blocks, features, "declared")


def _stage_of(name: str) -> int:
    match = re.search(r"(?:stages|layers)\.(\d+)", name)
    return int(match.group(1)) if match else 0


def _discover_blocks(network: nn.Module) -> tuple[BlockGroup, ...] | None:
    blocks = getattr(network, "blocks", None)
    if isinstance(blocks, nn.Sequential | nn.ModuleList) and len(blocks):
        return tuple(BlockGroup((f"blocks.{i}",), 0) for i in range(len(blocks)))
    stages = getattr(network, "stages", None)
    if isinstance(stages, nn.Sequential | nn.ModuleList):
        found = []
        for s, stage in enumerate(stages):
            inner = getattr(stage, "blocks", None)
            if isinstance(inner, nn.Sequential | nn.ModuleList):
                found += [BlockGroup((f"stages.{s}.blocks.{i}",), s) for i in range(len(inner))]
        return tuple(found) or None
    return None


def _discover_kernels(network: nn.Module) -> tuple[KernelSite, ...]:
    sites = []
    for name, module in network.named_modules():
        if (
            isinstance(module, nn.Conv2d)
            and module.groups > 1
            and module.groups == module.in_channels == module.out_channels
            and module.kernel_size[0] == module.kernel_size[1] > 1
        ):
            # Without a declaration nothing is known about merging: the kernel as it is serves both.
            sites.append(KernelSite(_stage_of(name), (name,), name))
    return tuple(sites)


def _discover(network: nn.Module) -> Anatomy:
    blocks = _discover_blocks(network)
    features: tuple[str, ...] | None = None
    if blocks:
        features = tuple(b.modules[-1] for b in blocks)
    else:
        info = getattr(network, "feature_info", None)
        names = [f.get("module") for f in info] if isinstance(info, list) else []
        if names and all(isinstance(n, str) for n in names):
            features = tuple(str(n) for n in names)
    return Anatomy(_discover_kernels(network), blocks, features, "discovered")


def anatomy_of(network: nn.Module, declare: Callable[[nn.Module], Any] | str | None = None) -> Anatomy:
    """The network's declared anatomy, or what its structure shows.

    Args:
        network: The network (unmerged or merged).
        declare: The ModelSpec's ``anatomy`` callable (or reference), if any; else
            the network's ``lkadv_anatomy()`` method, else discovery.

    Raises:
        ModelContractError: If a declaration names modules the network lacks.
    """
    if declare is not None:
        function = resolve(declare)
        return _declared(network, dict(function(network)))
    method = getattr(network, "lkadv_anatomy", None)
    if callable(method):
        return _declared(network, dict(method()))
    return _discover(network)
