"""Digital corruptions: brightness, contrast, saturate, jpeg, pixelate and elastic transform.

All but elastic are per-pixel, global or relative to the image size and run at
the native resolution; elastic follows the supersampling rule of
:mod:`lkadv.corruptions._scale`.
"""

from __future__ import annotations

import io
import itertools
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from lkadv.corruptions._color import as_rgb
from lkadv.corruptions._kernels import blur_separable, gaussian_kernel1d
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import reference_size, supersampled
from lkadv.corruptions._wrap import corruption

__all__ = ["brightness", "contrast", "elastic_transform", "jpeg_compression", "pixelate", "saturate"]


@corruption
def brightness(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Add c to the HSV value (grey images: to the grey level).

    With hue and saturation fixed, every RGB channel is proportional to the
    value V, so the HSV round trip of the reference is ``rgb * V' / V`` (and
    ``V'`` on black pixels): the same numbers in three operations.
    """
    c = param("brightness", severity)
    if x.shape[1] == 1:
        return (x + c).clamp(0, 1)
    v = x.amax(1, keepdim=True)
    v_new = (v + c).clamp(0, 1)
    scale = v_new / torch.where(v > 0, v, torch.ones_like(v))
    return torch.where(v > 0, x * scale, v_new.expand_as(x)).clamp(0, 1)


@corruption
def contrast(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Shrink every channel towards its mean by the factor c."""
    c = param("contrast", severity)
    means = x.mean((-2, -1), keepdim=True)
    return ((x - means) * c + means).clamp(0, 1)


def _saturate_rgb(rgb: torch.Tensor, a: float, b: float) -> torch.Tensor:
    """Skimage's HSV round trip with ``S' = clip(S * a + b)``, in closed form.

    Each channel is ``V * (1 - S * f(H))``, so with H and V fixed it becomes
    ``V - (V - rgb) * S' / S``; grey pixels (S = 0) get hue 0 in skimage, hence
    red = V and green = blue = ``V * (1 - S')``.
    """
    v = rgb.amax(1, keepdim=True)
    delta = v - rgb.amin(1, keepdim=True)
    s = torch.where(v > 0, delta / torch.where(v > 0, v, torch.ones_like(v)), torch.zeros_like(v))
    s = torch.where(delta > 0, s, torch.zeros_like(s))
    s_new = (s * a + b).clamp(0, 1)
    coloured = v - (v - rgb) * (s_new / torch.where(s > 0, s, torch.ones_like(s)))
    grey = torch.cat([v, v * (1 - s_new), v * (1 - s_new)], 1)
    return torch.where(s > 0, coloured, grey).clamp(0, 1)


@corruption
def saturate(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Scale and shift the HSV saturation (grey images: the red channel of the result, as the reference)."""
    a, b = param("saturate", severity)
    return as_rgb(x, lambda rgb: _saturate_rgb(rgb, a, b), back=lambda rgb: rgb[:, :1])


@corruption
def jpeg_compression(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Encode and decode with libjpeg through Pillow at quality 25..7 (Pillow's defaults: 4:2:0 chroma).

    This is the reference's own codec call, image by image on the CPU for every
    device: a GPU codec (nvJPEG) would give other pixels than libjpeg, and no
    batched torch JPEG encoder exists to replace it.
    """
    from PIL import Image

    quality = int(param("jpeg_compression", severity))
    u8 = (x * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    out = np.empty_like(u8)
    for i, img in enumerate(u8):
        pil = Image.fromarray(img[..., 0], mode="L") if img.shape[-1] == 1 else Image.fromarray(img, mode="RGB")
        buffer = io.BytesIO()
        pil.save(buffer, "JPEG", quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out[i] = np.asarray(decoded).reshape(img.shape)
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(device=x.device, dtype=x.dtype) / 255


@lru_cache(maxsize=64)
def _box_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """PIL's BOX resampling weights ``[n_out, n_in]`` (input centres inside each output footprint)."""
    scale = n_in / n_out
    support = 0.5 * max(scale, 1.0)
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for j in range(n_out):
        centre = (j + 0.5) * scale
        lo = max(0, int(centre - support + 0.5))
        hi = min(n_in, int(centre + support + 0.5))
        for i in range(lo, hi):
            t = (i - centre + 0.5) / max(scale, 1.0)
            if -0.5 < t <= 0.5:
                m[j, i] = 1.0
        m[j] /= m[j].sum().clamp_min(1.0)
    return m


@lru_cache(maxsize=64)
def _nearest_index(n_in: int, n_out: int) -> torch.Tensor:
    """PIL's NEAREST resampling source index of each output sample.

    Pillow walks the source in float64: the first sample at ``scale / 2`` and
    each next one ``scale`` further, by repeated addition (``scale = n_in /
    n_out``), taking the integer part. Where the exact position is a whole
    number the running sum can land just below it, and Pillow takes the pixel
    before; ``floor((j + 0.5) * scale)`` takes the one after (for 80 -> 200,
    28 of the 200 indices). Python floats are the same IEEE doubles, so the
    sum is repeated here in the same order.
    """
    scale = n_in / n_out
    positions = itertools.accumulate(itertools.repeat(scale, n_out - 1), initial=scale * 0.5)
    return torch.tensor([min(int(p), n_in - 1) for p in positions], dtype=torch.int64)


@corruption
def pixelate(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Box-downsample to a fraction c of the size, then nearest-upsample back (PIL's resamplers)."""
    c = param("pixelate", severity)
    h, w = x.shape[-2:]
    sh, sw = max(1, int(h * c)), max(1, int(w * c))
    mh = _box_matrix(h, sh).to(x.device, x.dtype)
    mw = _box_matrix(w, sw).to(x.device, x.dtype)
    small = mh @ x @ mw.T
    big = small.index_select(-2, _nearest_index(sh, h).to(x.device))
    return big.index_select(-1, _nearest_index(sw, w).to(x.device)).clamp(0, 1)


def elastic_fields(
    n: int, h: int, w: int, severity: int, generator: torch.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The imagecorruptions displacement fields ``(dy, dx)``, each ``[n, h, w]`` in pixels.

    Uniform noise of half-width ``0.005 * h``, smoothed by a Gaussian of sigma
    ``0.01 * (h, w)`` (truncate 3, symmetric border), times alpha.
    """
    alpha = param("elastic_transform", severity)
    half = 0.005 * h
    kh, kw = gaussian_kernel1d(0.01 * h, 3.0), gaussian_kernel1d(0.01 * w, 3.0)
    u = torch.rand(2, n, 1, h, w, generator=generator, device=device, dtype=torch.float32) * (2 * half) - half
    dy = blur_separable(u[0], kh, kw, "symmetric")[:, 0] * alpha
    dx = blur_separable(u[1], kh, kw, "symmetric")[:, 0] * alpha
    return dy, dx


def elastic_warp(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
    """Sample ``x`` bilinearly at ``(row + dy, col + dx)``, as scipy's ``map_coordinates(order=1, mode="reflect")``.

    Outside the image scipy's ``reflect`` mirrors the image about its outer
    pixel edges (``... b a | a b ... y z | z y ...``) and interpolates that
    linearly; ``grid_sample``'s ``reflection`` padding with
    ``align_corners=False`` mirrors the sample position about the same edges
    (-0.5 and n - 0.5), which gives the same values.
    """
    h, w = x.shape[-2:]
    rows = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1) + dy.to(x.dtype)
    cols = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w) + dx.to(x.dtype)
    grid = torch.stack([(2 * cols + 1) / w - 1, (2 * rows + 1) / h - 1], -1)  # pixel centres, pixel-edge bounds
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


@corruption
def elastic_transform(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """A smooth random displacement field (the imagecorruptions variant of ImageNet-C's elastic)."""

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        h, w = z.shape[-2:]
        eh, ew = reference_size(h, w, s)
        dy, dx = elastic_fields(len(z), eh, ew, severity, generator, z.device)
        if (eh, ew) != (h, w):
            size = (h, w)
            dy = F.interpolate(dy[:, None], size=size, mode="bilinear", align_corners=False)[:, 0] * (h / eh)
            dx = F.interpolate(dx[:, None], size=size, mode="bilinear", align_corners=False)[:, 0] * (w / ew)
        return elastic_warp(z, dy, dx).clamp(0, 1)

    return supersampled(x, run)
