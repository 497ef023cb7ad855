"""Noise corruptions: gaussian, shot, impulse and speckle noise.

Per-pixel: no lengths, so they run at the native resolution with the 224-px
parameters, independently on every channel, as the reference does.
"""

from __future__ import annotations

import torch

from lkadv.corruptions._params import param
from lkadv.corruptions._wrap import corruption

__all__ = ["gaussian_noise", "impulse_noise", "shot_noise", "speckle_noise"]


def _normal(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)


@corruption
def gaussian_noise(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Additive N(0, c^2) noise."""
    c = param("gaussian_noise", severity)
    return (x + c * _normal(x, generator)).clamp(0, 1)


@corruption
def shot_noise(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Poisson photon noise: ``Poisson(x * c) / c``."""
    c = float(param("shot_noise", severity))
    return (torch.poisson(x * c, generator=generator) / c).clamp(0, 1)


@corruption
def impulse_noise(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Salt and pepper: each value is replaced with probability c, by 0 or 1 with equal odds."""
    c = param("impulse_noise", severity)
    # One uniform per value: below c/2 pepper, in [c/2, c) salt (each with probability c/2).
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=torch.float32)
    out = torch.where(u < c, torch.ones_like(x), x)
    return torch.where(u < c / 2, torch.zeros_like(x), out)


@corruption
def speckle_noise(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Multiplicative noise: ``x + x * N(0, c^2)``."""
    c = param("speckle_noise", severity)
    return (x + x * c * _normal(x, generator)).clamp(0, 1)
