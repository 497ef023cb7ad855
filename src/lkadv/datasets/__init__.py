"""Datasets: the embedded Fashion-MNIST benchmark, ImageSets and root discovery."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.datasets._arrays import ArrayImageSet
    from lkadv.datasets._fashion_mnist import load_fashion_mnist
    from lkadv.datasets._files import FileImageSet
    from lkadv.datasets._idx import read_idx
    from lkadv.datasets._loading import call_loader, load_imageset
    from lkadv.datasets._prepared import PrepareReport, prepare_imagesets
    from lkadv.datasets._roots import find_root, resolve_root

__all__ = [
    "ArrayImageSet",
    "FileImageSet",
    "PrepareReport",
    "call_loader",
    "find_root",
    "load_fashion_mnist",
    "load_imageset",
    "prepare_imagesets",
    "read_idx",
    "resolve_root",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "ArrayImageSet": "lkadv.datasets._arrays",
        "load_fashion_mnist": "lkadv.datasets._fashion_mnist",
        "FileImageSet": "lkadv.datasets._files",
        "read_idx": "lkadv.datasets._idx",
        "call_loader": "lkadv.datasets._loading",
        "load_imageset": "lkadv.datasets._loading",
        "PrepareReport": "lkadv.datasets._prepared",
        "prepare_imagesets": "lkadv.datasets._prepared",
        "find_root": "lkadv.datasets._roots",
        "resolve_root": "lkadv.datasets._roots",
    },
)
