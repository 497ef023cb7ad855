"""Kernel attention pattern: how far from its centre a depthwise kernel puts its weight."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["combine_branches", "distance_map", "kernel_scores"]


def distance_map(size: int) -> torch.Tensor:
    """Distance of each tap from the centre over ``R * sqrt(2)``, ``R = size // 2`` (corners: 1).

    A 1 x 1 kernel has no spread: its map is zero.
    """
    radius = size // 2
    coords = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    dist = torch.sqrt(coords[:, None] ** 2 + coords[None, :] ** 2)
    return dist / (radius * math.sqrt(2)) if radius else torch.zeros(size, size, dtype=torch.float64)


def combine_branches(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """Centre-pad kernels ``[C, 1, kh, kw]`` to the largest square side and sum them.

    SLaK's large branch is a ``K x k`` and a ``k x K`` kernel; their sum is the
    ``K x K`` kernel the branch applies.
    """
    side = max(max(w.shape[-2:]) for w in weights)
    total = torch.zeros((*weights[0].shape[:-2], side, side), dtype=torch.float64)
    for w in weights:
        kh, kw = w.shape[-2:]
        top, left = (side - kh) // 2, (side - kw) // 2
        total += F.pad(w.detach().double().cpu(), (left, side - kw - left, top, side - kh - top))
    return total


def kernel_scores(weight: torch.Tensor, *, normalize: bool = False) -> torch.Tensor:
    """Per-channel score ``sum |w| * d`` of a square depthwise kernel ``[C, 1, K, K]`` (or ``[C, K, K]``).

    Args:
        weight: The kernel.
        normalize: Divide each channel's score by its ``sum |w|`` (a mean distance in [0, 1]).

    Returns:
        float64 ``[C]``; the study sorts these per block.
    """
    w = weight.detach().double().cpu().reshape(weight.shape[0], *weight.shape[-2:]).abs()
    if w.shape[-1] != w.shape[-2]:
        raise ValueError(f"kernel_scores needs square kernels, got {tuple(weight.shape)}")
    score = (w * distance_map(w.shape[-1])).sum((1, 2))
    if normalize:
        score = score / w.sum((1, 2)).clamp_min(1e-300)
    return score
