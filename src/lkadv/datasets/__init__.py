"""Datasets: the embedded Fashion-MNIST benchmark, ImageSets and root discovery."""

from typing import TYPE_CHECKING

from lkadv._lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.datasets._arrays import ArrayImageSet
    from lkadv.datasets._fashion_mnist import load_fashion_mnist
    from lkadv.datasets._idx import read_idx
    from lkadv.datasets._roots import find_root, resolve_root

__all__ = ["ArrayImageSet", "find_root", "load_fashion_mnist", "read_idx", "resolve_root"]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "ArrayImageSet": "lkadv.datasets._arrays",
        "load_fashion_mnist": "lkadv.datasets._fashion_mnist",
        "read_idx": "lkadv.datasets._idx",
        "find_root": "lkadv.datasets._roots",
        "resolve_root": "lkadv.datasets._roots",
    },
)
