"""Spatter: water drops (severities 1-3) or mud (4-5) from a thresholded random field.

The mud branch is the reference's arithmetic. The water branch shades the drops
with OpenCV image operations (Canny, distance transform, histogram equalization,
an emboss filter); they are rebuilt here in torch on the batch, because OpenCV
works on one CPU image at a time:

* edges: the boundary pixels of the drops. The drop field is 0 outside a drop
  and at least ``threshold * 255`` inside, a step far above Canny's thresholds,
  while inside the smooth field stays below them, so Canny finds these
  boundaries; lkadv takes the inner boundary where Canny's non-maximum
  suppression may pick either side (one pixel);
* distance: the exact Euclidean distance to the nearest edge, truncated at 20
  (OpenCV's 5x5 mask approximates the same distance);
* equalization, emboss and box blurs: OpenCV's rules (rounding, saturation,
  reflect-101 borders).
"""

from __future__ import annotations

import torch

from lkadv.corruptions._color import as_rgb
from lkadv.corruptions._kernels import filter2d, gaussian_blur
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import reference_size, resize_layer, supersampled
from lkadv.corruptions._wrap import corruption

__all__ = ["spatter", "spatter_field"]

_WATER = (175 / 255, 238 / 255, 238 / 255)  # pale turquoise
_MUD = (63 / 255, 42 / 255, 20 / 255)  # mud brown
_EMBOSS = torch.tensor([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
_TRUNC = 20


def spatter_field(
    n: int, h: int, w: int, severity: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """The reference's liquid layer ``[n, 1, h, w]``: blurred N(loc, scale), zero below the threshold."""
    loc, scale, sigma, threshold, _, _ = param("spatter", severity)
    layer = loc + scale * torch.randn(n, 1, h, w, generator=generator, device=device, dtype=torch.float32)
    layer = gaussian_blur(layer, sigma, "replicate")
    return torch.where(layer < threshold, torch.zeros_like(layer), layer)


def _box3(x: torch.Tensor) -> torch.Tensor:
    return filter2d(x, torch.full((3, 3), 1 / 9, dtype=torch.float64), "reflect101")


def _edge_distance(edges: torch.Tensor) -> torch.Tensor:
    """Euclidean distance to the nearest edge pixel, capped above ``_TRUNC`` (two exact 1-D passes)."""
    n, c, h, w = edges.shape
    big = _TRUNC + 1
    idx = torch.arange(w, device=edges.device).expand(n, c, h, w)
    neg = torch.full_like(idx, -(10**6))
    left = torch.cummax(torch.where(edges, idx, neg), -1).values
    right = -torch.cummax(torch.where(edges, -idx, neg).flip(-1), -1).values.flip(-1)
    g = torch.minimum(idx - left, right - idx).clamp(max=big).to(torch.float32)
    g2 = torch.nn.functional.pad(g**2, (0, 0, big, big), value=float(big**2))
    best = g**2
    for k in range(1, big + 1):
        best = torch.minimum(
            best, torch.minimum(g2[..., big + k : big + k + h, :], g2[..., big - k : big - k + h, :]) + k * k
        )
    return best.sqrt()


def _equalize(u8: torch.Tensor) -> torch.Tensor:
    """OpenCV's equalizeHist on 8-bit-valued float images, one histogram per image."""
    n = len(u8)
    flat = u8.reshape(n, -1).long()
    hist = torch.zeros(n, 256, dtype=torch.float64, device=u8.device).scatter_add_(
        1, flat, torch.ones_like(flat, dtype=torch.float64)
    )
    total = flat.shape[1]
    first = (hist > 0).long().argmax(1)
    first_count = hist.gather(1, first[:, None])
    cum = torch.cumsum(hist, 1) - first_count  # the first occupied level maps to 0
    scale = 255.0 / (total - first_count).clamp_min(1)
    lut = torch.round(cum * scale).clamp(0, 255)
    lut = torch.where(torch.arange(256, device=u8.device)[None] < first[:, None], torch.zeros_like(lut), lut)
    single = first_count[:, 0] == total  # one level only: OpenCV maps everything to it
    lut = torch.where(single[:, None], first[:, None].to(lut.dtype).expand_as(lut), lut)
    return lut.gather(1, flat).reshape(u8.shape).to(u8.dtype)


def _water_mask(layer: torch.Tensor, severity: int) -> torch.Tensor:
    strength = param("spatter", severity)[4]
    u8 = torch.floor(layer * 255).clamp(0, 255)
    inside = u8 > 0
    pad = torch.nn.functional.pad(inside.float(), (1, 1, 1, 1), mode="replicate") > 0
    outside_nb = ~pad[..., :-2, 1:-1] | ~pad[..., 2:, 1:-1] | ~pad[..., 1:-1, :-2] | ~pad[..., 1:-1, 2:]
    edges = inside & outside_nb
    dist = _edge_distance(edges).clamp(max=_TRUNC)
    dist = torch.floor(_box3(dist) + 1e-4)  # blur, then astype(uint8) truncates
    dist = _equalize(dist)
    dist = filter2d(dist, _EMBOSS, "reflect101").round().clamp(0, 255)  # CV_8U: rounded, saturated
    dist = _box3(dist).round()  # blur of an 8-bit image is 8-bit
    m = u8 * dist
    peak = m.flatten(1).amax(1).view(-1, 1, 1, 1)
    return torch.where(peak > 0, m / peak.clamp_min(1e-12), torch.zeros_like(m)) * strength


def _mud_mask(layer: torch.Tensor, severity: int) -> torch.Tensor:
    threshold, strength = param("spatter", severity)[3:5]
    m = gaussian_blur((layer > threshold).to(layer.dtype), strength, "replicate")
    return torch.where(m < 0.8, torch.zeros_like(m), m)


@corruption
def spatter(x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
    """Water drops (severities 1-3) or mud splashes (4-5)."""
    mud = param("spatter", severity)[5] == 1

    def run(z: torch.Tensor, s: float) -> torch.Tensor:
        h, w = z.shape[-2:]
        eh, ew = reference_size(h, w, s)
        layer = spatter_field(len(z), eh, ew, severity, generator, z.device)
        mask = _mud_mask(layer, severity) if mud else _water_mask(layer, severity)
        mask = resize_layer(mask.to(z.dtype), (h, w))
        if mud:
            color = torch.tensor(_MUD, dtype=z.dtype, device=z.device).view(1, 3, 1, 1)
            return as_rgb(z, lambda rgb: (rgb * (1 - mask) + color * mask).clamp(0, 1))
        color = torch.tensor(_WATER, dtype=z.dtype, device=z.device).view(1, 3, 1, 1)
        return as_rgb(z, lambda rgb: (rgb + mask * color).clamp(0, 1))

    return supersampled(x, run)
