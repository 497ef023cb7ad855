"""The embedded Fashion-MNIST mini zoo: architectures, catalogue, training, weights."""

from lkadv.zoo._catalog import FM_MEAN, FM_STD, ZOO, ZooEntry

__all__ = ["FM_MEAN", "FM_STD", "ZOO", "ZooEntry"]
