"""Blur corruptions: defocus, glass, motion, zoom and gaussian blur.

Defocus, glass, motion and gaussian blur have lengths in pixels and follow the
supersampling rule of :mod:`lkadv.corruptions._scale`; zoom blur is relative to
the image size and runs natively.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch

from lkadv.corruptions._kernels import disk_kernel, filter2d
from lkadv.corruptions._kernels import gaussian_blur as _gaussian
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import supersampled
from lkadv.corruptions._wrap import corruption

__all__ = [
    "defocus_blur",
    "gaussian_blur",
    "glass_blur",
    "glass_permutation",
    "motion_blur",
    "motion_blur_with_angles",
    "motion_kernels",
    "zoom_blur",
]


@corruption
def gaussian_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Skimage ``gaussian`` (truncate 4, border ``nearest``) with sigma 1..6 px at 224."""
    sigma = param("gaussian_blur", severity)
    return supersampled(x, lambda z, s: _gaussian(z, sigma * s).clamp(0, 1))


@corruption
def defocus_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Correlation with the reference's anti-aliased disk (OpenCV ``filter2D``, reflect-101 border)."""
    radius, alias = param("defocus_blur", severity)

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        kernel = disk_kernel(radius * s, alias * s)
        return filter2d(z, kernel, "reflect101").clamp(0, 1)

    return supersampled(x, run)


# ----------------------------------------------------------------------- glass


@lru_cache(maxsize=32)
def _glass_waves(h: int, w: int, d: int) -> tuple[torch.Tensor, tuple[tuple[int, int], ...]]:
    """The reference's shuffle positions, grouped into waves of independent steps.

    The reference visits rows ``h - d .. d + 1`` and, in each, columns
    ``w - d .. d + 1`` (both descending). Its tuple "swap" on an H x W x C array
    assigns through views, so each step copies the pixel at an offset in
    ``[-d, d - 1]^2`` into the visited one and leaves the other as it was
    (pixels get duplicated, not permuted). A step touches a ``2d x 2d`` window,
    so two steps interact only when their positions differ by less than ``2d``
    in both coordinates. Giving position ``(r, c)`` the time
    ``2d * (h - d - r) + (w - d - c)`` orders every pair of interacting steps as
    the reference does, and steps of equal time touch disjoint pixels: running
    the waves in time order, each as one batched gather, gives exactly the
    reference's distribution of results, in a few thousand steps instead of one
    Python iteration per pixel.

    Returns:
        ``(positions, waves)``: flat positions sorted by time, and
        ``(start, stop)`` slices of equal time.
    """
    rows = torch.arange(h - d, d, -1)
    cols = torch.arange(w - d, d, -1)
    if len(rows) == 0 or len(cols) == 0:
        return torch.zeros(0, dtype=torch.int64), ()
    rr, cc = torch.meshgrid(rows, cols, indexing="ij")
    time = (2 * d * (h - d - rr) + (w - d - cc)).flatten()
    order = torch.argsort(time, stable=True)
    positions = (rr * w + cc).flatten()[order]
    _, counts = torch.unique_consecutive(time[order], return_counts=True)
    ends = torch.cumsum(counts, 0).tolist()
    starts = [0, *ends[:-1]]
    return positions, tuple(zip(starts, ends, strict=True))


def glass_permutation(
    n: int, h: int, w: int, max_delta: int, iterations: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """Source pixel of every output pixel after the reference's local shuffle.

    Args:
        n: Batch size.
        h: Image height.
        w: Image width.
        max_delta: The reference's ``c[1]``: offsets are drawn in ``[-d, d - 1]``.
        iterations: Passes over the image.
        generator: Random source.
        device: Where to compute.

    Returns:
        ``[n, h * w]`` int64 flat source indices (not a permutation: see :func:`_glass_waves`).
    """
    source = torch.arange(h * w, device=device).repeat(n, 1)
    positions, waves = _glass_waves(h, w, max_delta)
    positions = positions.to(device)
    for _ in range(iterations):
        offsets = torch.randint(-max_delta, max_delta, (n, len(positions), 2), generator=generator, device=device)
        targets = positions[None] + offsets[..., 0] * w + offsets[..., 1]
        for start, stop in waves:
            source[:, positions[start:stop]] = source.gather(1, targets[:, start:stop])
    return source


@corruption
def glass_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Gaussian blur, 8-bit truncation, the reference's local pixel shuffle, gaussian blur again."""
    sigma, delta, iterations = param("glass_blur", severity)

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        n, c, h, w = z.shape
        d = max(1, round(delta * s))
        # The reference stores the first blur as uint8 (truncating): keep that step.
        q = torch.floor(_gaussian(z, sigma * s) * 255 + 1e-4).clamp(0, 255) / 255
        perm = glass_permutation(n, h, w, d, iterations, generator, z.device)
        shuffled = q.flatten(2).gather(2, perm[:, None].expand(-1, c, -1)).view(n, c, h, w)
        return _gaussian(shuffled, sigma * s).clamp(0, 1)

    return supersampled(x, run)


# ---------------------------------------------------------------------- motion


def motion_kernels(angles: torch.Tensor, radius: int, sigma: float, h: int, w: int) -> torch.Tensor:
    """The reference's motion-blur kernels, one per angle, for correlation with replicate borders.

    The reference sums ``width = 2 * radius + 1`` copies of the image shifted by
    ``-ceil(i * (sin, cos)(angle) - 0.5)``, weighted by a half Gaussian, and
    stops at the first shift that leaves the image.

    Args:
        angles: ``[N]`` angles in degrees (float64).
        radius: Kernel radius in pixels.
        sigma: Gaussian sigma in pixels.
        h: Image height (for the reference's stop rule).
        w: Image width.

    Returns:
        ``[N, 2 * width - 1, 2 * width - 1]`` float64 kernels.
    """
    width = 2 * radius + 1
    i = torch.arange(width, dtype=torch.float64)
    weights = torch.exp(-(i**2) / (2 * sigma**2))
    weights = weights / weights.sum()
    rad = torch.deg2rad(angles.double().cpu())
    py, px = width * torch.sin(rad), width * torch.cos(rad)
    hyp = torch.hypot(py, px)
    dy = -torch.ceil(i[None] * py[:, None] / hyp[:, None] - 0.5).long()
    dx = -torch.ceil(i[None] * px[:, None] / hyp[:, None] - 0.5).long()
    inside = (dy.abs() < h) & (dx.abs() < w)
    valid = torch.cumprod(inside.long(), 1).bool()  # the reference breaks at the first miss
    size = 2 * width - 1
    centre = width - 1
    n = len(angles)
    kernels = torch.zeros(n, size, size, dtype=torch.float64)
    image = torch.arange(n)[:, None].expand(-1, width)
    rows = (centre - dy).clamp(0, size - 1)
    cols = (centre - dx).clamp(0, size - 1)
    kernels.index_put_((image, rows, cols), weights[None] * valid, accumulate=True)
    return kernels


def motion_blur_with_angles(x: torch.Tensor, angles: torch.Tensor, radius: float, sigma: float) -> torch.Tensor:
    """Motion blur of ``x`` at given per-image angles (degrees), lengths already scaled."""
    kernels = motion_kernels(angles, max(0, round(radius)), sigma, *x.shape[-2:])
    return filter2d(x, kernels, "replicate")


@corruption
def motion_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Blur along a random direction in [-45, 45] degrees (the imagecorruptions kernel)."""
    radius, sigma = param("motion_blur", severity)
    angles = torch.rand(len(x), generator=generator, device=x.device, dtype=torch.float64) * 90 - 45
    return supersampled(x, lambda z, s: motion_blur_with_angles(z, angles, radius * s, sigma * s).clamp(0, 1))


# ------------------------------------------------------------------------ zoom


def _zoom_axis(n: int, factor: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Linear-interpolation taps of the reference's ``clipped_zoom`` along one axis.

    The reference crops the centre ``ceil(n / z)`` samples, zooms them with
    ``scipy.ndimage.zoom(order=1)`` to ``round(crop * z)`` samples (corner-aligned
    grid) and keeps the first ``n``; missing samples count as 0.

    Returns:
        ``(i0, i1, frac, present)`` over the ``n`` output samples.
    """
    crop = math.ceil(n / factor)
    top = (n - crop) // 2
    out = round(crop * factor)
    o = torch.arange(n, dtype=torch.float64)
    coord = o * ((crop - 1) / (out - 1)) if out > 1 else torch.zeros(n, dtype=torch.float64)
    i0 = torch.floor(coord).clamp(0, max(crop - 1, 0))
    frac = coord - i0
    i0 = i0.long()
    i1 = (i0 + 1).clamp(max=crop - 1)
    present = o < out
    return i0 + top, i1 + top, frac, present


@corruption
def zoom_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """The average of the image and its centre zooms by factors ``1 .. stop`` (relative: native)."""
    stop, step = param("zoom_blur", severity)
    factors = np.arange(1, stop, step)  # the reference's exact factors
    h, w = x.shape[-2:]
    total = x.clone()
    for factor in factors.tolist():
        r0, r1, rf, rp = (t.to(x.device) for t in _zoom_axis(h, factor))
        c0, c1, cf, cp = (t.to(x.device) for t in _zoom_axis(w, factor))
        rf, cf = rf.to(x.dtype), cf.to(x.dtype)
        rows = x.index_select(-2, r0) * (1 - rf)[:, None] + x.index_select(-2, r1) * rf[:, None]
        layer = rows.index_select(-1, c0) * (1 - cf) + rows.index_select(-1, c1) * cf
        total += layer * (rp[:, None] & cp[None, :]).to(x.dtype)
    return (total / (len(factors) + 1)).clamp(0, 1)
