"""Feature-map variance over H x W, in the two definitions used in the literature."""

from __future__ import annotations

import math

import torch

__all__ = ["as_maps", "batch_mean_variance", "per_sample_variance"]


def as_maps(output: torch.Tensor) -> torch.Tensor:
    """A module output as ``[N, C, H, W]``: token sequences ``[N, T, C]`` lose their prefix tokens.

    A sequence of ``T`` tokens is read as ``p`` prefix tokens (class, distillation)
    and a square grid: ``p = T - floor(sqrt(T))**2``.

    Raises:
        ValueError: For outputs that are neither maps nor token sequences.
    """
    if output.ndim == 4:
        return output
    if output.ndim == 3:
        n, t, c = output.shape
        side = math.isqrt(t)
        tokens = output[:, t - side * side :]
        return tokens.transpose(1, 2).reshape(n, c, side, side)
    raise ValueError(f"a feature map must be [N, C, H, W] or [N, tokens, C], got shape {tuple(output.shape)}")


def per_sample_variance(maps: torch.Tensor) -> torch.Tensor:
    """Per-sample definition: ``Var_hw(x[n, c])`` averaged over channels; returns ``[N]``.

    The unbiased variance (``torch.var``'s default, as both sources use).
    """
    return maps.double().flatten(2).var(2).mean(1)


def batch_mean_variance(maps: torch.Tensor) -> torch.Tensor:
    """The study's definition: ``Var_hw`` of the batch-mean map, averaged over channels; a scalar."""
    return maps.double().mean(0).flatten(1).var(1).mean()
