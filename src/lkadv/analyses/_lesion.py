"""Lesions: blocks replaced by identity for the duration of a ``with``."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

__all__ = ["lesioned", "shape_preserving"]


@contextmanager
def lesioned(network: nn.Module, modules: Sequence[str]) -> Iterator[nn.Module]:
    """Replace the named submodules by ``nn.Identity`` and put them back afterwards."""
    saved: list[tuple[nn.Module, str, nn.Module]] = []
    try:
        for name in modules:
            parent_name, _, child = name.rpartition(".")
            parent = network.get_submodule(parent_name) if parent_name else network
            saved.append((parent, child, getattr(parent, child)))
            setattr(parent, child, nn.Identity())
        yield network
    finally:
        for parent, child, module in reversed(saved):
            setattr(parent, child, module)


@torch.no_grad()
def shape_preserving(model: nn.Module, network: nn.Module, names: Sequence[str], probe: torch.Tensor) -> set[str]:
    """The named modules whose output has their input's shape on ``probe`` (only they can become identities)."""
    ok: set[str] = set()
    handles = []
    for name in names:

        def hook(_m: nn.Module, args: tuple[object, ...], out: object, name: str = name) -> None:
            first = args[0] if args else None
            if isinstance(first, torch.Tensor) and isinstance(out, torch.Tensor) and first.shape == out.shape:
                ok.add(name)

        handles.append(network.get_submodule(name).register_forward_hook(hook))
    try:
        model(probe)
    finally:
        for h in handles:
            h.remove()
    return ok
