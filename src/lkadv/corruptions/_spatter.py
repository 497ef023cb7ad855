"""Spatter: water drops (severities 1-3) or mud (4-5) from a thresholded random field.

The mud branch is the reference's arithmetic. The water branch shades the drops
with OpenCV image operations on the 8-bit liquid layer (Canny, a chamfer
distance transform, histogram equalization, an emboss filter); they are rebuilt
here in torch on the batch, because OpenCV works on one CPU image at a time.
Each follows OpenCV's own integer and float rules, and the shading equals
opencv-python 4.8's pixel for pixel on the reference's own layers (see
tests/corruptions/test_reference.py):

* **edges**, ``cv2.Canny(layer, 50, 150)`` (3x3 aperture, L1 gradient): Sobel
  derivatives ``gx, gy`` with replicated borders, magnitude ``|gx| + |gy|``
  (0 outside the image); the gradient direction falls in one of four sectors by
  OpenCV's fixed-point test against tan(22.5 deg) and tan(67.5 deg); a pixel
  survives non-maximum suppression when its magnitude exceeds 50, exceeds its
  neighbour before it along the sector (left, up, or the upper diagonal one)
  and is at least as large as the one after it (right, down), strictly larger
  than both on a diagonal. Survivors above 150 are edges, and so is every
  survivor 8-connected to an edge (hysteresis).

  What this marks on a drop: the layer is 0 outside a drop and at least
  ``threshold * 255`` (173-175) inside, a step far above both thresholds,
  while inside a drop the field varies slowly. Across a step the outer pixel's
  magnitude is set by the first value inside and the inner pixel's by the
  second, so suppression keeps the inner pixel where the field still rises one
  pixel further in, the outer one where it falls, the left or upper one of the
  two on a tie, and either side in the diagonal sectors of curved boundaries.
  On the reference's layers about two thirds of the edge pixels lie just
  inside a drop and one third just outside (8-adjacent to it), a handful
  farther in at severity 3; neither the inner nor the outer boundary alone
  (lkadv's earlier rule took the inner one) gives the same shading.
* **distance**, ``cv2.distanceTransform(DIST_L2, 5)``: not the Euclidean
  distance but a chamfer one, the shortest path to an edge pixel in steps of 1
  (horizontal, vertical), 1.4 (diagonal) and 2.1969 (knight's move), summed in
  float32 as opencv-python computes it; truncated at 20. Paths whose float32
  sums round differently for the same length can leave a 1e-6 difference.
* the 3x3 blur of the float distances (sums in float64, times 1/9, rounded to
  float32) and its truncation to 8 bits; equalization, emboss and the second
  box blur: OpenCV's rules (rounding, saturation, reflect-101 borders).
"""

from __future__ import annotations

import math

import torch

from lkadv.corruptions._color import as_rgb
from lkadv.corruptions._kernels import filter2d, gaussian_blur
from lkadv.corruptions._params import param
from lkadv.corruptions._scale import reference_size, resize_layer, supersampled
from lkadv.corruptions._wrap import corruption

__all__ = ["canny_edges", "chamfer_distance", "spatter", "spatter_field"]

_WATER = (175 / 255, 238 / 255, 238 / 255)  # pale turquoise
_MUD = (63 / 255, 42 / 255, 20 / 255)  # mud brown
_EMBOSS = torch.tensor([[-2.0, -1.0, 0.0], [-1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], dtype=torch.float64)
_TRUNC = 20
# OpenCV's Canny sector bound: tan(22.5 deg) in 15-bit fixed point.
_SHIFT = 15
_TG22 = round(math.tan(math.radians(22.5)) * (1 << _SHIFT))
# The step costs of distanceTransform(DIST_L2, 5)'s 5x5 mask (horizontal or vertical, diagonal, knight's move).
_CHAMFER_COST = {"straight": 1.0, "diagonal": 1.4, "knight": 2.1969}


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


def canny_edges(u8: torch.Tensor, low: int = 50, high: int = 150) -> torch.Tensor:
    """OpenCV's ``Canny(image, low, high)`` (aperture 3, L1 gradient) of 8-bit-valued images.

    Args:
        u8: ``[N, 1, H, W]`` float tensor of integers in 0..255.
        low: Lower hysteresis threshold (magnitudes must exceed it).
        high: Upper threshold (magnitudes above it start an edge).

    Returns:
        ``[N, 1, H, W]`` bool edge map.
    """
    h, w = u8.shape[-2:]
    p = torch.nn.functional.pad(u8.float(), (1, 1, 1, 1), mode="replicate")

    def at(dy: int, dx: int) -> torch.Tensor:
        return p[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    # Integer sums of at most 4 * 255: exact in float32, then integers for OpenCV's fixed-point sector test.
    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1) - at(-1, -1) - 2 * at(0, -1) - at(1, -1)).long()
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1) - at(-1, -1) - 2 * at(-1, 0) - at(-1, 1)).long()
    mag = gx.abs() + gy.abs()
    mp = torch.nn.functional.pad(mag, (1, 1, 1, 1), value=0)

    def nb(dy: int, dx: int) -> torch.Tensor:
        return mp[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]

    ax, ay = gx.abs(), gy.abs() << _SHIFT
    horizontal = ay < ax * _TG22
    vertical = ay > ax * _TG22 + (ax << (_SHIFT + 1))
    # Before/after asymmetry (> then >=) is OpenCV's: of two equal neighbours the first one is kept.
    keep_h = (mag > nb(0, -1)) & (mag >= nb(0, 1))
    keep_v = (mag > nb(-1, 0)) & (mag >= nb(1, 0))
    # Diagonals: the gradient's signs pick the diagonal (equal signs: up-left to down-right).
    opposite = (gx < 0) != (gy < 0)
    keep_d = torch.where(opposite, (mag > nb(-1, 1)) & (mag > nb(1, -1)), (mag > nb(-1, -1)) & (mag > nb(1, 1)))
    candidate = (mag > low) & torch.where(horizontal, keep_h, torch.where(vertical, keep_v, keep_d))
    edges = candidate & (mag > high)
    while True:  # hysteresis: grow the strong edges through 8-connected candidates
        grown = candidate & (torch.nn.functional.max_pool2d(edges.float(), 3, 1, 1) > 0)
        if torch.equal(grown, edges):
            return edges
        edges = grown


def _min3(x: torch.Tensor, dim: int) -> torch.Tensor:
    """The minimum of each sample and its two neighbours along ``dim`` (none beyond the image)."""
    out = x.clone()
    n = x.shape[dim]
    after, before = out.narrow(dim, 1, n - 1), out.narrow(dim, 0, n - 1)
    torch.minimum(after, x.narrow(dim, 0, n - 1), out=after)
    torch.minimum(before, x.narrow(dim, 1, n - 1), out=before)
    return out


def chamfer_distance(edges: torch.Tensor, cap: float = _TRUNC) -> torch.Tensor:
    """OpenCV's ``distanceTransform(255 - edges, DIST_L2, 5)``, truncated at ``cap``.

    The shortest path to an edge pixel in the steps of the 5x5 mask, found by
    relaxation: a path shorter than ``cap`` has fewer than ``cap`` steps (each
    costs at least 1), so ``ceil(cap)`` rounds reach every distance below it,
    and distances above it never matter (they are truncated). Each round adds a
    step's float32 cost to a float32 distance, as OpenCV sums along a path.

    A round takes minima over windows rather than over the 16 steps one by one
    (three times fewer passes over memory): each window holds one kind of step
    and cells that cheaper steps reach for less (the 3x3 window of the diagonal
    1.4 also holds the straight neighbours, reached for 1; the 3x5 window of the
    knight's 2.1969 also holds (0, 2), reached for 2). Those cells' offers are
    never below what the cheaper path gives, so the fixed point is the same.

    Args:
        edges: ``[N, 1, H, W]`` bool edge map (the zero pixels of OpenCV's input).
        cap: Truncation value.

    Returns:
        ``[N, 1, H, W]`` float32 distances, at most ``cap``.
    """
    d = torch.where(edges, 0.0, cap).to(torch.float32)
    straight, diagonal, knight = (
        torch.tensor(_CHAMFER_COST[k], dtype=torch.float32, device=d.device) for k in ("straight", "diagonal", "knight")
    )
    for _ in range(math.ceil(cap)):
        rows3 = _min3(d, -1)  # 1x3 window
        box3 = _min3(rows3, -2)  # 3x3
        knights = torch.minimum(_min3(_min3(rows3, -1), -2), _min3(box3, -2))  # 3x5 and 5x3
        best = torch.minimum(torch.minimum(rows3, _min3(d, -2)) + straight, box3 + diagonal)
        best = torch.minimum(torch.minimum(best, knights + knight), d).clamp_(max=cap)
        if torch.equal(best, d):
            break
        d = best
    return d


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


def _water_mask(u8: torch.Tensor, severity: int) -> torch.Tensor:
    """The water mask from the 8-bit liquid layer ``u8`` (integers in a float tensor)."""
    strength = param("spatter", severity)[4]
    dist = chamfer_distance(canny_edges(u8)).double()
    # cv2.blur on float32 sums in float64 and scales by 1/9; astype(uint8) then truncates.
    dist = torch.floor((filter2d(dist, torch.ones(3, 3, dtype=torch.float64), "reflect101") * (1 / 9)).float())
    dist = _equalize(dist.double())
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
        # The reference shades water drops from its 8-bit copy of the layer.
        mask = _mud_mask(layer, severity) if mud else _water_mask(torch.floor(layer * 255).clamp(0, 255), severity)
        mask = resize_layer(mask.to(z.dtype), (h, w))
        if mud:
            color = torch.tensor(_MUD, dtype=z.dtype, device=z.device).view(1, 3, 1, 1)
            return as_rgb(z, lambda rgb: (rgb * (1 - mask) + color * mask).clamp(0, 1))
        color = torch.tensor(_WATER, dtype=z.dtype, device=z.device).view(1, 3, 1, 1)
        return as_rgb(z, lambda rgb: (rgb + mask * color).clamp(0, 1))

    return supersampled(x, run)
