"""The contract every corruption function keeps, enforced in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from lkadv.errors import LkadvError

__all__ = ["CorruptionInputError", "corruption", "corruption_in_chunks"]

Fn = Callable[[torch.Tensor, int, torch.Generator], torch.Tensor]

# On the CPU a batch is processed a few images at a time: with about 4 MB of
# pixels per chunk the many passes of a corruption stay in cache, which was
# measured 1.5x faster over the whole set than whole batches (bench/corruption_speed.py).
# GPUs get the whole batch.
CPU_CHUNK_ELEMENTS = 1 << 20


class CorruptionInputError(LkadvError, ValueError):
    """A corruption was called with a batch or severity it cannot take."""


def corruption(fn: Fn) -> Fn:
    """Check input, make severity 0 the identity, and keep dtype, shape and range.

    The wrapped function receives a float32 (or float64) NCHW batch with 1 or 3
    channels and a severity in 1..5; lower-precision input is computed in
    float32 and cast back.
    """
    return _wrap(fn, CPU_CHUNK_ELEMENTS)


def corruption_in_chunks(elements: int) -> Callable[[Fn], Fn]:
    """:func:`corruption` with another CPU chunk size (pixels at the render size)."""
    return lambda fn: _wrap(fn, elements)


def _wrap(fn: Fn, chunk_elements: int) -> Fn:
    from lkadv.corruptions._scale import render_factor

    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] not in (1, 3):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise CorruptionInputError(f"{name}: expected a float NCHW batch with 1 or 3 channels, got {shape}")
        if not x.is_floating_point():
            raise CorruptionInputError(f"{name}: expected float values in [0, 1], got dtype {x.dtype}")
        if isinstance(severity, bool) or not isinstance(severity, int) or not 0 <= severity <= 5:
            raise CorruptionInputError(f"{name}: severity must be an int in 0..5 (0 = none), got {severity!r}")
        if severity == 0 or x.numel() == 0:
            return x.clone()
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
        if work.device.type == "cpu":
            k, _ = render_factor(*x.shape[-2:])
            per_image = x.shape[1] * x.shape[2] * x.shape[3] * k * k
            chunk = max(1, chunk_elements // per_image)
        else:
            chunk = len(work)
        parts = [fn(work[i : i + chunk], severity, generator) for i in range(0, len(work), chunk)]
        out = parts[0] if len(parts) == 1 else torch.cat(parts)
        return out.clamp(0, 1).to(x.dtype)

    return wrapper
