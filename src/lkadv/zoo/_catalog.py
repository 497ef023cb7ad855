"""The mini-zoo catalogue: names, builders and training recipes.

This module is light (no torch import) so that registering the zoo and listing
it stays cheap; builders are referred to by dotted path and imported on use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FM_MEAN", "FM_STD", "ZOO", "ZooEntry"]

# Per-channel statistics of the Fashion-MNIST train split (computed by the
# training script, printed in its log); the core's Classifier normalizes with them.
FM_MEAN = (0.2860,)
FM_STD = (0.3530,)


@dataclass(frozen=True)
class ZooEntry:
    """One mini-zoo model: how to build it and how it was trained.

    Attributes:
        name: Registry name.
        family: Architecture family shown in reports.
        builder: ``module:callable`` that returns the unmerged network.
        tags: Selector tags.
        kernel_sizes: Depthwise/conv kernel sizes per stage, where meaningful.
        epochs: Training epochs.
        lr: Peak AdamW learning rate.
        description: One line for listings.
        kwargs: Extra builder arguments.
    """

    name: str
    family: str
    builder: str
    tags: tuple[str, ...]
    kernel_sizes: tuple[int, ...]
    epochs: int
    lr: float
    description: str
    kwargs: dict[str, object] = field(default_factory=dict)


_A = "lkadv.zoo._archs"

ZOO: tuple[ZooEntry, ...] = (
    ZooEntry(
        "fm-resnet",
        "resnet",
        f"{_A}:ResNetFM",
        ("cnn", "small-kernel"),
        (3, 3, 3),
        8,
        3e-3,
        "3x3 ResNet, 4 basic blocks",
    ),
    ZooEntry(
        "fm-convnext",
        "convnext",
        f"{_A}:ConvNeXtFM",
        ("cnn", "small-kernel"),
        (7, 7),
        10,
        3e-3,
        "ConvNeXt with 7x7 depthwise kernels",
    ),
    ZooEntry(
        "fm-replknet",
        "replknet",
        f"{_A}:RepLKNetFM",
        ("cnn", "large-kernel", "reparam"),
        (13, 13),
        8,
        3e-3,
        "RepLKNet-style: 13x13 depthwise + parallel 3x3, merged at load",
    ),
    ZooEntry(
        "fm-replknet-k3",
        "replknet",
        f"{_A}:RepLKNetFM",
        ("cnn", "small-kernel", "reparam", "ablation"),
        (3, 3),
        8,
        3e-3,
        "fm-replknet with its large kernels replaced by 3x3 (+1x1), the study's ablation",
        {"kernels": (3, 3), "small": 1},
    ),
    ZooEntry(
        "fm-slak",
        "slak",
        f"{_A}:SLaKNetFM",
        ("cnn", "large-kernel", "reparam"),
        (13, 13),
        8,
        3e-3,
        "SLaK-style: decomposed 13x3 and 3x13 + 3x3, merged at load",
    ),
    ZooEntry("fm-vit", "vit", f"{_A}:ViTFM", ("vit", "transformer"), (), 20, 1e-3, "ViT, 4x4 patches, dim 64, depth 4"),
    ZooEntry(
        "fm-resnet-gauss",
        "gauss",
        f"{_A}:gauss_resnet",
        ("cnn", "small-kernel", "gauss"),
        (3, 3, 3),
        8,
        3e-3,
        "fm-resnet with a Gauss-network head (Centroid Based Tailoring)",
    ),
)
