"""ImageNet val and its robustness benchmarks: layouts, label spaces, scoring rules and metrics."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.datasets.imagenet._labels import (
        IN9_CLASSES,
        imagenet_synsets,
        in9_of_imagenet,
        subset_indices,
        subset_synsets,
    )
    from lkadv.datasets.imagenet._metrics import (
        average_precision,
        bg_gap,
        corruption_errors,
        flip_probability,
        ood_aupr,
        top5_distance,
    )

__all__ = [
    "IN9_CLASSES",
    "average_precision",
    "bg_gap",
    "corruption_errors",
    "flip_probability",
    "imagenet_synsets",
    "in9_of_imagenet",
    "ood_aupr",
    "subset_indices",
    "subset_synsets",
    "top5_distance",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        **dict.fromkeys(
            ["IN9_CLASSES", "imagenet_synsets", "in9_of_imagenet", "subset_indices", "subset_synsets"],
            "lkadv.datasets.imagenet._labels",
        ),
        **dict.fromkeys(
            ["average_precision", "bg_gap", "corruption_errors", "flip_probability", "ood_aupr", "top5_distance"],
            "lkadv.datasets.imagenet._metrics",
        ),
    },
)
