"""Noise corruptions: gaussian, shot, impulse and speckle noise.

Per-pixel: no lengths, so they run at the native resolution with the 224-px
parameters, independently on every channel, as the reference does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


def _poisson(lam: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``torch.poisson``, image by image in parallel on the CPU.

    On the CPU torch.poisson draws on one thread whatever torch's thread count
    (the slowest corruption of the set that way). Each image draws from its own
    generator, seeded from ``generator``, so the result depends on the seed only,
    not on the number of threads; ATen releases the GIL, so the draws overlap.
    """
    if lam.device.type != "cpu" or len(lam) < 2:
        return torch.poisson(lam, generator=generator)
    seeds = torch.randint(0, 2**62, (len(lam),), generator=generator, device=generator.device).tolist()
    out = torch.empty_like(lam)

    def draw(i: int) -> None:
        out[i] = torch.poisson(lam[i], generator=torch.Generator().manual_seed(seeds[i]))

    workers = min(torch.get_num_threads(), len(lam))
    if workers <= 1:
        for i in range(len(lam)):
            draw(i)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(draw, range(len(lam))))
    return out


@corruption
def shot_noise(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Poisson photon noise: ``Poisson(x * c) / c``."""
    c = float(param("shot_noise", severity))
    return (_poisson(x * c, generator) / c).clamp(0, 1)


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
