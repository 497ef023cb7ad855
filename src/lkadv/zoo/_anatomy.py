"""The mini zoo's anatomy for the analyses: kernels, skippable blocks, feature maps.

Kept apart from the architectures so that declaring it leaves the networks'
source, and so their code identity in every cell key, unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = ["zoo_anatomy"]


def _resnet(network: Any) -> dict[str, Any]:
    # Only stride-1 blocks keep their input's shape, so only they can become identities.
    return {
        "large_kernels": [],
        "blocks": [{"modules": ["stages.1"], "stage": 0}, {"modules": ["stages.3"], "stage": 1}],
        "features": ["stem", *(f"stages.{i}" for i in range(len(network.stages)))],
    }


def _convnext(network: Any) -> dict[str, Any]:
    first = [f"stage1.{i}" for i in range(len(network.stage1))]
    second = [f"stage2.{i}" for i in range(len(network.stage2))]
    staged = [(0, n) for n in first] + [(1, n) for n in second]
    return {
        "large_kernels": [{"stage": s, "branches": [f"{n}.dwconv"], "merged": f"{n}.dwconv"} for s, n in staged],
        "blocks": [{"modules": [n], "stage": s} for s, n in staged],
        "features": ["stem", *first, "downsample", *second],
    }


def _large_kernel(network: Any) -> dict[str, Any]:
    kernels, blocks = [], []
    for s, stage in enumerate(network.stages):
        prefix = f"stages.{s}.0.large_kernel"
        decomposed = hasattr(stage[0].large_kernel, "LoRA1") or "LoRA1" in stage[0].large_kernel.branches
        origin = ["LoRA1", "LoRA2"] if decomposed else ["lkb_origin"]
        kernels.append(
            {"stage": s, "branches": [f"{prefix}.{b}.conv" for b in origin], "merged": f"{prefix}.lkb_reparam"}
        )
        blocks.append({"modules": [f"stages.{s}.0", f"stages.{s}.1"], "stage": s})
    features = ["stem", "stages.0.0", "stages.0.1", "transition", "stages.1.0", "stages.1.1"]
    return {"large_kernels": kernels, "blocks": blocks, "features": features}


def _vit(network: Any) -> dict[str, Any]:
    names = [f"blocks.{i}" for i in range(len(network.blocks))]
    return {
        "large_kernels": [],
        "blocks": [{"modules": [n], "stage": 0} for n in names],
        "features": ["patch_embed", *names],
    }


_BY_CLASS = {
    "ResNetFM": _resnet,
    "ConvNeXtFM": _convnext,
    "RepLKNetFM": _large_kernel,
    "SLaKNetFM": _large_kernel,
    "ViTFM": _vit,
}


def zoo_anatomy(network: Any) -> dict[str, Any]:
    """The anatomy of a mini-zoo network (the ModelSpec's ``anatomy``).

    Raises:
        KeyError: For a network that is not a mini-zoo architecture.
    """
    return _BY_CLASS[type(network).__name__](network)
