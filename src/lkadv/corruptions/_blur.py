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
import torch.nn.functional as F

from lkadv.corruptions._kernels import disk_kernel, filter2d
from lkadv.corruptions._kernels import gaussian_blur as _gaussian
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import supersampled
from lkadv.corruptions._wrap import corruption, corruption_in_chunks

__all__ = [
    "centre_zoom",
    "clipped_zooms",
    "defocus_blur",
    "gaussian_blur",
    "glass_blur",
    "glass_permutation",
    "motion_blur",
    "motion_blur_with_angles",
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
    positions, waves = _glass_waves(h, w, max_delta)
    positions = positions.to(device)
    # Flat indices over the whole batch, wave-major: each wave is one contiguous
    # block, so the loop below is one gather and one copy per wave, no slicing.
    base = torch.arange(n, device=device) * (h * w)
    dest = (positions[:, None] + base[None]).flatten()
    sizes = [(stop - start) * n for start, stop in waves]
    dest_waves = torch.split(dest, sizes)
    source = torch.arange(n * h * w, device=device)
    span = 2 * max_delta
    for _ in range(iterations):
        # One draw per step: (dy, dx) uniform on [-d, d - 1]^2, as the reference's two randints.
        code = torch.randint(0, span * span, (len(positions), n), generator=generator, device=device)
        targets = (dest.view(-1, n) + (code // span - max_delta) * w + (code % span - max_delta)).flatten()
        for a, b in zip(dest_waves, torch.split(targets, sizes), strict=True):
            source.index_copy_(0, a, source.index_select(0, b))
    return source.view(n, h * w) - base[:, None]


@corruption_in_chunks(1 << 22)  # its shuffle loop costs per call, whatever the batch: larger chunks
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


def motion_blur_with_angles(x: torch.Tensor, angles: torch.Tensor, radius: float, sigma: float) -> torch.Tensor:
    """Motion blur of ``x`` at given per-image angles (degrees), lengths already scaled.

    The kernel is a line of at most ``2 * radius + 1`` taps, different for each
    image: a sum of shifted slices of the replicate-padded image, per image,
    costs a fraction of a dense or FFT convolution with an ``(4r+1)^2`` kernel.
    """
    r = max(0, round(radius))
    width = 2 * r + 1
    n, _, h, w = x.shape
    i = torch.arange(width, dtype=torch.float64)
    profile = torch.exp(-(i**2) / (2 * sigma**2)) if sigma > 0 else (i == 0).double()
    weights: list[float] = (profile / profile.sum()).tolist()
    rad = torch.deg2rad(angles.double().cpu())
    py, px = width * torch.sin(rad), width * torch.cos(rad)
    hyp = torch.hypot(py, px)
    dy = (-torch.ceil(i[None] * py[:, None] / hyp[:, None] - 0.5)).long().tolist()
    dx = (-torch.ceil(i[None] * px[:, None] / hyp[:, None] - 0.5)).long().tolist()
    m = width - 1
    xp = F.pad(x, (m, m, m, m), mode="replicate")
    out = torch.zeros_like(x)
    for k in range(n):
        for t in range(width):
            sy, sx = dy[k][t], dx[k][t]
            if abs(sy) >= h or abs(sx) >= w:
                break  # the reference stops where the motion leaves the image
            # output(p) = x(p - (sy, sx)), edges replicated
            out[k].add_(xp[k, :, m - sy : m - sy + h, m - sx : m - sx + w], alpha=weights[t])
    return out


@corruption
def motion_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Blur along a random direction in [-45, 45] degrees (the imagecorruptions kernel)."""
    radius, sigma = param("motion_blur", severity)
    angles = torch.rand(len(x), generator=generator, device=x.device, dtype=torch.float64) * 90 - 45
    return supersampled(x, lambda z, s: motion_blur_with_angles(z, angles, radius * s, sigma * s).clamp(0, 1))


# ------------------------------------------------------------------------ zoom


def centre_zoom(x: torch.Tensor, factor: float) -> torch.Tensor:
    """The reference's ``clipped_zoom`` of ``x`` by ``factor`` before any crop.

    The centre ``ceil(n / factor)`` samples of each axis, zoomed with
    ``scipy.ndimage.zoom(order=1)`` to ``round(crop * factor)`` samples (a
    corner-aligned grid: bilinear with ``align_corners=True``); that is at
    least ``n``, and one more than ``n`` for some factors (3 at 224: 225).
    """
    _, _, h, w = x.shape
    ch, cw = math.ceil(h / factor), math.ceil(w / factor)
    top, left = (h - ch) // 2, (w - cw) // 2
    oh, ow = round(ch * factor), round(cw * factor)
    crop = x[..., top : top + ch, left : left + cw]
    return F.interpolate(crop, size=(oh, ow), mode="bilinear", align_corners=True)


def clipped_zooms(x: torch.Tensor, factors: tuple[float, ...]) -> torch.Tensor:
    """``sum_z clipped_zoom(x, z)`` over ``factors``, as the reference computes each zoom.

    Each zoom is :func:`centre_zoom` cut to the first ``n`` samples of each axis,
    as zoom blur uses it. Channels-last memory makes torch's bilinear kernel
    about twice as fast on the CPU.
    """
    _, _, h, w = x.shape
    xc = x.contiguous(memory_format=torch.channels_last)
    total = torch.zeros_like(xc)
    for factor in factors:
        if factor == 1.0:  # the identity zoom: interpolation at the sample points themselves
            total += xc
            continue
        total += centre_zoom(xc, factor)[..., :h, :w]
    return total.contiguous()


@corruption
def zoom_blur(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """The average of the image and its centre zooms by factors ``1 .. stop`` (relative: native)."""
    stop, step = param("zoom_blur", severity)
    factors = tuple(np.arange(1, stop, step).tolist())  # the reference's exact factors
    return ((x + clipped_zooms(x, factors)) / (len(factors) + 1)).clamp(0, 1)
