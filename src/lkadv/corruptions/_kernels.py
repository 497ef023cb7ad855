"""Filtering kernels and their application to NCHW batches.

Each helper reproduces the border rule of the library the reference called, so
that the same kernel gives the same pixels:

* ``replicate``: scipy ``mode="nearest"`` (skimage ``gaussian``'s default) and
  the edge copying of the reference's motion-blur ``shift``;
* ``reflect101``: OpenCV's default ``BORDER_REFLECT_101`` (``filter2D``,
  ``GaussianBlur``, ``blur``);
* ``symmetric``: scipy ``mode="reflect"`` (half-sample symmetric).

The padding is done by index arithmetic rather than ``F.pad`` because ``F.pad``
refuses reflect padding wider than the image, which large kernels on small
images need.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F

__all__ = [
    "blur_separable",
    "cv2_gaussian_kernel1d",
    "disk_kernel",
    "filter2d",
    "gaussian_blur",
    "gaussian_kernel1d",
    "pad",
    "pad_index",
]

# Above this many taps a 2-D filter goes through the FFT, below as one depthwise convolution (faster on the CPU).
_FFT_TAPS = 121


@lru_cache(maxsize=256)
def pad_index(n: int, before: int, after: int, mode: str) -> torch.Tensor:
    """Source indices of a padded axis of length ``n`` (on the CPU).

    Args:
        n: Axis length.
        before: Samples added before index 0.
        after: Samples added after index ``n - 1``.
        mode: ``replicate``, ``reflect101``, ``symmetric`` or ``wrap``.

    Returns:
        Int64 indices of length ``before + n + after``.
    """
    i = torch.arange(-before, n + after)
    if mode == "replicate":
        return i.clamp(0, n - 1)
    if mode == "wrap":
        return i.remainder(n)
    if mode == "reflect101":
        if n == 1:
            return torch.zeros_like(i)
        period = 2 * (n - 1)
        j = i.remainder(period)
        return torch.where(j < n, j, period - j)
    if mode == "symmetric":
        period = 2 * n
        j = i.remainder(period)
        return torch.where(j < n, j, period - 1 - j)
    raise ValueError(f"unknown padding mode {mode!r}")


def pad(x: torch.Tensor, ph: tuple[int, int], pw: tuple[int, int], mode: str) -> torch.Tensor:
    """Pad the last two axes of ``x`` by ``ph`` rows and ``pw`` columns under ``mode``."""
    h, w = x.shape[-2:]
    # F.pad is several times faster than index_select where it applies.
    if mode == "replicate" and x.dim() == 4:
        return F.pad(x, (pw[0], pw[1], ph[0], ph[1]), mode="replicate")
    if mode == "reflect101" and x.dim() == 4 and max(ph) < h and max(pw) < w:
        return F.pad(x, (pw[0], pw[1], ph[0], ph[1]), mode="reflect")
    if ph != (0, 0):
        x = x.index_select(-2, pad_index(h, ph[0], ph[1], mode).to(x.device))
    if pw != (0, 0):
        x = x.index_select(-1, pad_index(w, pw[0], pw[1], mode).to(x.device))
    return x


def gaussian_kernel1d(sigma: float, truncate: float = 4.0) -> torch.Tensor:
    """scipy.ndimage's sampled Gaussian: radius ``int(truncate * sigma + 0.5)``, sum 1 (float64)."""
    radius = int(truncate * float(sigma) + 0.5)
    if sigma <= 0 or radius == 0:
        return torch.ones(1, dtype=torch.float64)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def cv2_gaussian_kernel1d(ksize: int, sigma: float) -> torch.Tensor:
    """OpenCV's ``getGaussianKernel(ksize, sigma)`` (float64, sum 1)."""
    x = torch.arange(ksize, dtype=torch.float64) - (ksize - 1) / 2
    k = torch.exp(-(x**2) / (2 * sigma * sigma))
    return k / k.sum()


def _correlate(xp: torch.Tensor, kernel: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Valid correlation of a padded NCHW batch with one small 2-D kernel, every channel alike.

    Runs as one depthwise convolution over all ``N * C`` planes: on the CPU,
    oneDNN's depthwise kernel is an order of magnitude faster than a
    convolution with one input and one output channel over a batch of planes.
    """
    n, c, hp, wp = xp.shape
    weight = kernel.to(device=xp.device, dtype=xp.dtype).expand(n * c, 1, *kernel.shape[-2:])
    out = F.conv2d(xp.reshape(1, n * c, hp, wp), weight, groups=n * c)
    return out.reshape(n, c, h, w)


def blur_separable(x: torch.Tensor, kh: torch.Tensor, kw: torch.Tensor, mode: str) -> torch.Tensor:
    """Correlate each channel of ``x`` (NCHW) with ``kh`` along rows and ``kw`` along columns."""
    h, w = x.shape[-2:]
    rh, rw = (len(kh) - 1) // 2, (len(kw) - 1) // 2
    if len(kh) > 1:
        x = _correlate(pad(x, (rh, len(kh) - 1 - rh), (0, 0), mode), kh.view(-1, 1), h, w)
    if len(kw) > 1:
        x = _correlate(pad(x, (0, 0), (rw, len(kw) - 1 - rw), mode), kw.view(1, -1), h, w)
    return x


def gaussian_blur(x: torch.Tensor, sigma: float, mode: str = "replicate", truncate: float = 4.0) -> torch.Tensor:
    """skimage/scipy ``gaussian`` of each channel (same sigma on both axes)."""
    k = gaussian_kernel1d(sigma, truncate)
    return blur_separable(x, k, k, mode)


def disk_kernel(radius: float, alias_blur: float) -> torch.Tensor:
    """The reference's anti-aliased disk (defocus blur), float64, sum 1.

    An aliased disk on a grid of half-width ``max(8, ceil(radius))``, normalized,
    then blurred by OpenCV's GaussianBlur (3x3 up to radius 8, else 5x5) with
    ``BORDER_REFLECT_101``.
    """
    half = 8 if radius <= 8 else math.ceil(radius)
    ksize = 3 if radius <= 8 else 5
    grid = torch.arange(-half, half + 1, dtype=torch.float64)
    yy, xx = torch.meshgrid(grid, grid, indexing="ij")
    disk = ((xx**2 + yy**2) <= radius**2).to(torch.float64)
    disk = disk / disk.sum()
    g = cv2_gaussian_kernel1d(ksize, alias_blur)
    return blur_separable(disk[None, None], g, g, "reflect101")[0, 0]


def filter2d(x: torch.Tensor, kernel: torch.Tensor, mode: str) -> torch.Tensor:
    """Correlate every channel of ``x`` (NCHW) with a 2-D kernel, centred (OpenCV's anchor).

    Args:
        x: The batch.
        kernel: ``[kh, kw]`` shared by the batch, or ``[N, kh, kw]`` one per image.
        mode: Border rule (see :func:`pad`).

    Returns:
        The filtered batch, same shape and dtype.
    """
    n, c, h, w = x.shape
    kh, kw = kernel.shape[-2:]
    rh, rw = (kh - 1) // 2, (kw - 1) // 2
    xp = pad(x, (rh, kh - 1 - rh), (rw, kw - 1 - rw), mode)
    per_image = kernel.dim() == 3
    k = kernel.to(device=x.device, dtype=x.dtype)
    if kh * kw <= _FFT_TAPS:
        if per_image:
            weight = k[:, None].repeat_interleave(c, 0)  # [N*C, 1, kh, kw]
            out = F.conv2d(xp.reshape(1, n * c, *xp.shape[-2:]), weight, groups=n * c)
            return out.reshape(n, c, h, w)
        return _correlate(xp, kernel, h, w)
    # Correlation through the FFT: zero-pad the kernel to the padded image; the
    # first h x w outputs never wrap around.
    hp, wp = xp.shape[-2:]
    xf = torch.fft.rfft2(xp.double() if x.dtype == torch.float64 else xp.float())
    kp = torch.zeros((*k.shape[:-2], hp, wp), dtype=xf.real.dtype, device=x.device)
    kp[..., :kh, :kw] = k
    kf = torch.fft.rfft2(kp)
    if per_image:
        kf = kf[:, None]
    out = torch.fft.irfft2(xf * kf.conj(), s=(hp, wp))[..., :h, :w]
    return out.to(x.dtype).contiguous()
