"""Calling a corruption by name."""

from __future__ import annotations

import importlib

import torch

from lkadv.corruptions._catalog import CATALOG
from lkadv.corruptions._wrap import CorruptionInputError, Fn

__all__ = ["corrupt", "get_corruption"]

_BY_NAME = {e.name: e for e in CATALOG}


def get_corruption(name: str) -> Fn:
    """The batched function ``(x, severity, generator) -> x'`` of a corruption.

    Raises:
        CorruptionInputError: If the name is not one of the 19.
    """
    entry = _BY_NAME.get(name)
    if entry is None:
        raise CorruptionInputError(f"unknown corruption {name!r}; known: {', '.join(_BY_NAME)}")
    fn: Fn = getattr(importlib.import_module(f"lkadv.corruptions.{entry.module}"), name)
    return fn


def corrupt(x: torch.Tensor, name: str, severity: int, seed: int = 0) -> torch.Tensor:
    """Corrupt a batch (float NCHW in [0, 1], 1 or 3 channels) with a seeded generator on its device.

    Args:
        x: The batch.
        name: Corruption name (``"glass_blur"``...).
        severity: 1..5, or 0 for none.
        seed: Seed of the generator.

    Returns:
        The corrupted batch, same shape, dtype and device.
    """
    generator = torch.Generator(device=x.device).manual_seed(seed)
    return get_corruption(name)(x, severity, generator)
