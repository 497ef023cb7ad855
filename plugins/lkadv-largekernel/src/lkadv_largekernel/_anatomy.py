"""What lkadv's analyses read from the three families: large kernels, skippable blocks, feature maps.

Plain data naming modules (the ``ModelSpec.anatomy`` contract of lkadv); kept
apart from the architectures so that their source, part of every cell key, is unchanged.
"""

from __future__ import annotations

from typing import Any

from torch import nn

__all__ = ["anatomy"]


def _replknet(net: Any) -> dict[str, Any]:
    kernels, blocks, features = [], [], [f"stem.{i}" for i in range(len(net.stem))]
    for s, stage in enumerate(net.stages):
        for i in range(0, len(stage.blocks), 2):
            lk = f"stages.{s}.blocks.{i}.large_kernel"
            kernels.append({"stage": s, "branches": [f"{lk}.lkb_origin.conv"], "merged": f"{lk}.lkb_reparam"})
            # The study's lesion unit: a RepLK block and the ConvFFN after it.
            blocks.append({"modules": [f"stages.{s}.blocks.{i}", f"stages.{s}.blocks.{i + 1}"], "stage": s})
        features += [f"stages.{s}.blocks.{j}" for j in range(len(stage.blocks))]
        if s < len(net.transitions):
            features += [f"transitions.{s}.{j}" for j in range(len(net.transitions[s]))]
    return {"large_kernels": kernels, "blocks": blocks, "features": features}


def _staged(net: Any, kernel_of: Any) -> dict[str, Any]:
    kernels, blocks, features = [], [], []
    for s, stage in enumerate(net.stages):
        features.append(f"downsample_layers.{s}")
        for j, block in enumerate(stage):
            name = f"stages.{s}.{j}"
            site = kernel_of(name, block)
            if site is not None:
                kernels.append({"stage": s, **site})
            blocks.append({"modules": [name], "stage": s})
            features.append(name)
    return {"large_kernels": kernels, "blocks": blocks, "features": features}


def _slak_kernel(name: str, block: Any) -> dict[str, Any]:
    lk = f"{name}.large_kernel"
    return {"branches": [f"{lk}.LoRA1.conv", f"{lk}.LoRA2.conv"], "merged": f"{lk}.lkb_reparam"}


def _unireplknet_kernel(name: str, block: Any) -> dict[str, Any] | None:
    dw = block.dwconv
    if isinstance(dw, nn.Conv2d):
        # A plain depthwise conv: no branches to merge; small (3x3) ones are not large kernels.
        return {"branches": [f"{name}.dwconv"], "merged": f"{name}.dwconv"} if dw.kernel_size[0] > 3 else None
    # Dilated Reparam Block: the large branch is lk_origin; merging writes the merged kernel into lk_origin.
    return {"branches": [f"{name}.dwconv.lk_origin"], "merged": f"{name}.dwconv.lk_origin"}


def anatomy(network: nn.Module) -> dict[str, Any]:
    """The anatomy of a RepLKNet, SLaK or UniRepLKNet network.

    Raises:
        TypeError: For a network of another family.
    """
    kind = type(network).__name__
    if kind == "RepLKNet":
        return _replknet(network)
    if kind == "SLaK":
        return _staged(network, _slak_kernel)
    if kind == "UniRepLKNet":
        return _staged(network, _unireplknet_kernel)
    raise TypeError(f"no anatomy for {kind}")
