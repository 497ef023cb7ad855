"""Weather corruptions: snow, frost and fog (and spatter, an extra one, in ``_spatter``).

Random layers (snow flakes, the fog fractal, the frost crop) are drawn at the
224-px-equivalent size with the reference parameters and resized to the image
(see :mod:`lkadv.corruptions._scale`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lkadv.corruptions._blur import centre_zoom, motion_blur_with_angles
from lkadv.corruptions._color import as_rgb
from lkadv.corruptions._frost import frost_layer, rescaled_frost
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import reference_size, resize_layer, supersampled
from lkadv.corruptions._wrap import corruption

__all__ = [
    "fog",
    "fog_from_maps",
    "frost",
    "frost_from_crops",
    "plasma_fractal",
    "snow",
    "snow_flakes",
    "snow_from_draws",
    "snow_layer",
]


# ------------------------------------------------------------------------- fog


def plasma_fractal(
    n: int, mapsize: int, wibbledecay: float, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """The reference's diamond-square height maps, ``[n, mapsize, mapsize]`` in [0, 1] (float32).

    float32 rather than the reference's float64: after normalization the maps
    differ by about 1e-7, far below 8-bit resolution.

    Args:
        n: Number of maps.
        mapsize: Side, a power of two.
        wibbledecay: Factor by which the random amplitude shrinks at each level.
        generator: Random source.
        device: Where to compute.
    """
    if mapsize & (mapsize - 1):
        raise ValueError(f"plasma_fractal: mapsize must be a power of two, got {mapsize}")
    m = torch.zeros(n, mapsize, mapsize, dtype=torch.float32, device=device)
    step = mapsize
    wibble = 100.0

    def wibbled_mean(a: torch.Tensor) -> torch.Tensor:
        u = torch.rand(a.shape, generator=generator, device=device, dtype=torch.float32)
        return a / 4 + wibble * (u * 2 * wibble - wibble)

    while step >= 2:
        half = step // 2
        corners = m[:, 0::step, 0::step]
        acc = corners + torch.roll(corners, -1, 1)
        acc = acc + torch.roll(acc, -1, 2)
        m[:, half::step, half::step] = wibbled_mean(acc)
        dr = m[:, half::step, half::step]
        ul = m[:, 0::step, 0::step]
        lt = dr + torch.roll(dr, 1, 1) + ul + torch.roll(ul, -1, 2)
        m[:, 0::step, half::step] = wibbled_mean(lt)
        tt = dr + torch.roll(dr, 1, 2) + ul + torch.roll(ul, -1, 1)
        m[:, half::step, 0::step] = wibbled_mean(tt)
        step //= 2
        wibble /= wibbledecay
    flat = m.flatten(1)
    m = m - flat.amin(1)[:, None, None]
    return m / m.flatten(1).amax(1).clamp_min(1e-12)[:, None, None]


def _next_power_of_2(v: int) -> int:
    return 1 if v == 0 else 2 ** (v - 1).bit_length()


def fog_from_maps(x: torch.Tensor, maps: torch.Tensor, severity: int) -> torch.Tensor:
    """Fog of ``x`` given fractal maps ``[N, >=H, >=W]`` (top-left crop used), as the reference."""
    strength, _ = param("fog", severity)
    h, w = x.shape[-2:]
    max_val = x.flatten(1).amax(1).view(-1, 1, 1, 1)
    out = x + strength * maps[:, None, :h, :w].to(x.dtype)
    return (out * max_val / (max_val + strength)).clamp(0, 1)


@corruption
def fog(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """A plasma-fractal haze added to the image, then the range compressed."""
    _, decay = param("fog", severity)

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        h, w = z.shape[-2:]
        eh, ew = reference_size(h, w, s)
        maps = plasma_fractal(len(z), _next_power_of_2(max(eh, ew)), decay, generator, z.device)[:, :eh, :ew]
        maps = resize_layer(maps[:, None].to(z.dtype), (h, w))[:, 0]
        return fog_from_maps(z, maps, severity)

    return supersampled(x, run)


# ----------------------------------------------------------------------- frost


def frost_from_crops(
    x: torch.Tensor, severity: int, indices: Sequence[int], tops: Sequence[int], lefts: Sequence[int]
) -> torch.Tensor:
    """Frost of ``x`` (at 224-px scale) with given frost images and crop corners, as the reference."""
    a, b = param("frost", severity)
    h, w = x.shape[-2:]
    layer = torch.stack(
        [frost_layer(i, h, w, t, left).to(x.device, x.dtype) for i, t, left in zip(indices, tops, lefts, strict=True)]
    )
    return as_rgb(x, lambda rgb: (a * rgb + b * layer).clamp(0, 1))


@corruption
def frost(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """A random crop of one of five frost photographs blended over the image."""
    a, b = param("frost", severity)

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        h, w = z.shape[-2:]
        eh, ew = reference_size(h, w, s)
        n = len(z)
        u = torch.rand(n, 3, generator=generator, device=z.device, dtype=torch.float64).cpu()
        layers = []
        for i in range(n):
            idx = min(4, int(u[i, 0] * 5))
            fh, fw = rescaled_frost(idx, eh, ew).shape[-2:]
            top = int(u[i, 1] * (fh - eh))
            left = int(u[i, 2] * (fw - ew))
            layers.append(frost_layer(idx, eh, ew, top, left))
        layer = resize_layer(torch.stack(layers).to(z.device, z.dtype), (h, w))
        return as_rgb(z, lambda rgb: (a * rgb + b * layer).clamp(0, 1))

    return supersampled(x, run)


# ------------------------------------------------------------------------ snow


def snow_flakes(field: torch.Tensor, angles: torch.Tensor, severity: int) -> torch.Tensor:
    """The reference's flake layer from its normal draws, before the 180-degree copy is added.

    The zoomed field is thresholded and motion-blurred at its full zoomed size
    and only then cut to the image (the reference's order): at 224 px the zooms
    of severities 1, 4 and 5 are 225 px, so the blur's replicated border lies
    one pixel further out than the image's edge.

    Args:
        field: ``[n, 1, h, w]`` draws of N(loc, scale) at the 224-px scale.
        angles: ``[n]`` motion-blur directions in degrees.
        severity: 1..5.

    Returns:
        ``[n, 1, h, w]`` in [0, 1], rounded to 8 bits as the reference rounds it.
    """
    _, _, zoom, threshold, radius, sigma, _ = param("snow", severity)
    h, w = field.shape[-2:]
    layer = centre_zoom(field, float(zoom))
    layer = torch.where(layer < threshold, torch.zeros_like(layer), layer).clamp(0, 1)
    layer = motion_blur_with_angles(layer, angles, radius, sigma)[..., :h, :w]
    return torch.round(layer * 255).clamp(0, 255) / 255


def snow_layer(n: int, h: int, w: int, severity: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """Flakes at the 224-px scale: ``[n, 1, h, w]`` in [0, 1], before the 180-degree copy is added."""
    loc, scale = param("snow", severity)[:2]
    field = loc + scale * torch.randn(n, 1, h, w, generator=generator, device=device, dtype=torch.float32)
    angles = torch.rand(n, generator=generator, device=device, dtype=torch.float64) * 90 - 135
    return snow_flakes(field, angles, severity)


def _snow_over(z: torch.Tensor, layer: torch.Tensor, severity: int) -> torch.Tensor:
    """The image whitened towards its luma, plus the flakes and their 180-degree copy."""
    keep = param("snow", severity)[6]
    if z.shape[1] == 3:
        weights = torch.tensor((0.299, 0.587, 0.114), dtype=z.dtype, device=z.device).view(1, 3, 1, 1)
        gray = (z * weights).sum(1, keepdim=True)
    else:
        gray = z
    base = keep * z + (1 - keep) * torch.maximum(z, gray * 1.5 + 0.5)
    return (base + layer + layer.flip(-1, -2)).clamp(0, 1)


def snow_from_draws(x: torch.Tensor, field: torch.Tensor, angles: torch.Tensor, severity: int) -> torch.Tensor:
    """Snow of ``x`` (at 224-px scale) from given normal draws ``[N, 1, H, W]`` and angles, as the reference."""
    return _snow_over(x, snow_flakes(field, angles, severity).to(x.dtype), severity)


@corruption
def snow(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Motion-blurred flakes over a whitened image."""

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        h, w = z.shape[-2:]
        eh, ew = reference_size(h, w, s)
        layer = resize_layer(snow_layer(len(z), eh, ew, severity, generator, z.device).to(z.dtype), (h, w))
        return _snow_over(z, layer, severity)

    return supersampled(x, run)
