"""Occlusion: patch grids, random and saliency-chosen patch masks, and applying them."""

from __future__ import annotations

import math

import torch

__all__ = ["apply_patch_mask", "auto_grid", "drop_count", "foreground", "random_patch_masks"]


def auto_grid(side: int) -> int:
    """Patches per side: 16 px patches from 112 px up (224 -> 14, the study), else 4 px (28 -> 7)."""
    return side // 16 if side >= 112 else max(1, side // 4)


def drop_count(k: int, cells: int, steps: int = 10) -> int:
    """Patches dropped at level ``k``: ``floor(k * cells / steps)`` (the study: 196 cells, 10 steps)."""
    return math.floor(k * cells / steps)


def random_patch_masks(n: int, cells: int, count: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` boolean masks over ``cells`` patches, each with exactly ``count`` chosen uniformly.

    Each sample gets its own draw (the study drew one set of patches per batch).
    """
    order = torch.rand((n, cells), generator=generator).argsort(1)
    masks = torch.zeros((n, cells), dtype=torch.bool)
    masks.scatter_(1, order[:, :count], True)
    return masks


def foreground(saliency: torch.Tensor, lam: float) -> torch.Tensor:
    """Patches holding the top ``lam`` of the attention mass (DINO's rule).

    Saliencies are sorted ascending, normalized to sum 1 and accumulated; a
    patch is foreground when the cumulative sum at its place exceeds ``1 - lam``.

    Args:
        saliency: Non-negative ``[N, cells]``.
        lam: Share of the attention mass, in (0, 1].

    Returns:
        Boolean ``[N, cells]``.
    """
    if not 0.0 < lam <= 1.0:
        raise ValueError(f"lambda must be in (0, 1], got {lam}")
    values, order = saliency.double().sort(1)
    values = values / values.sum(1, keepdim=True).clamp_min(1e-300)
    chosen = values.cumsum(1) > 1.0 - lam
    return torch.zeros_like(chosen).scatter(1, order, chosen)


def apply_patch_mask(x: torch.Tensor, masks: torch.Tensor, grid: int) -> torch.Tensor:
    """Set the masked patches of images in [0, 1] to 0 (pixels past the last whole patch are kept).

    Args:
        x: ``[N, C, H, W]``.
        masks: Boolean ``[N, grid * grid]``, row-major patches.
        grid: Patches per side.
    """
    n, _, h, w = x.shape
    ph, pw = h // grid, w // grid
    pixels = masks.view(n, 1, grid, grid).to(x.device)
    pixels = pixels.repeat_interleave(ph, 2).repeat_interleave(pw, 3)
    full = torch.zeros((n, 1, h, w), dtype=torch.bool, device=x.device)
    full[:, :, : grid * ph, : grid * pw] = pixels
    return x.masked_fill(full, 0.0)
