"""Effective receptive field (RepLKNet's protocol) and its high-contribution area ratios."""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["area_ratio", "erf_contribution", "erf_scale"]


def erf_contribution(features: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Gradient of ``sum relu(centre pixel of the last feature map)`` w.r.t. the input.

    Args:
        features: A callable returning ``[N, C, h, w]`` feature maps for ``x``.
        x: Input ``[N, C, H, W]``.

    Returns:
        float64 ``[H, W]``: relu of the gradient, summed over channels and images.
    """
    x = x.detach().clone().requires_grad_(True)
    maps = features(x)
    h, w = maps.shape[-2:]
    centre = torch.relu(maps[:, :, h // 2, w // 2]).sum()
    (grad,) = torch.autograd.grad(centre, x)
    return torch.relu(grad).double().sum((0, 1))


def erf_scale(contribution: torch.Tensor) -> torch.Tensor:
    """``log10(x + 1)`` divided by its maximum (the heat map RepLKNet plots)."""
    logged = torch.log10(contribution.double() + 1)
    return logged / logged.max().clamp_min(1e-300)


def area_ratio(contribution: torch.Tensor, threshold: float) -> float:
    """Smallest centred square holding ``threshold`` of the total, as ``side**2 / (H * W)``.

    Squares grow one pixel per side around the centre pixel ``(H // 2, W // 2)``,
    clipped to the image, until their sum reaches ``threshold`` of the whole map.
    """
    h, w = contribution.shape
    total = float(contribution.sum())
    cy, cx = h // 2, w // 2
    for r in range(max(h, w)):
        window = contribution[max(0, cy - r) : cy + r + 1, max(0, cx - r) : cx + r + 1]
        if float(window.sum()) >= threshold * total:
            side = 2 * r + 1
            return min(side, h) * min(side, w) / (h * w)
    return 1.0
