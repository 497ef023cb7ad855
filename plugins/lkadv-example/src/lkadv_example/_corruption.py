"""The example corruption: posterize, i.e. fewer bits per channel at each severity."""

from __future__ import annotations

import torch

__all__ = ["BITS", "posterize"]

# Bits kept per channel at severities 1..5 (8 would be the clean image).
BITS = (5, 4, 3, 2, 1)


def posterize(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Keep the top ``BITS[severity - 1]`` bits of each 8-bit pixel value (as PIL's ImageOps.posterize).

    Args:
        x: Float NCHW in [0, 1], any size and channel count.
        severity: 1..5.
        generator: Unused: posterize draws nothing (the spec says ``random=False``).

    Returns:
        The posterized batch, same shape, dtype and device.
    """
    drop = 8 - BITS[severity - 1]
    pixels = torch.round(x * 255.0).to(torch.int32)
    kept = (pixels >> drop) << drop
    return (kept.to(x.dtype) / 255.0).clamp(0.0, 1.0)
