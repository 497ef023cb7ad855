"""Colour helpers: skimage's HSV conversion, luma, and the 1-channel rule.

A colour corruption on a 1-channel batch is defined as the reference does for
a grey image given as RGB: the grey channel is repeated three times, the RGB
corruption applied, and the result turned back into one channel (luma with the
reference's ``rgb2gray`` weights, or the red channel where the reference takes
it, as in saturate).

The reference's weights 0.2989, 0.5870 and 0.1140 sum to 0.9999, so as they
stand a grey pixel that the corruption left alone would come back darker by a
factor 0.9999, one 8-bit level darker once truncated (most pixels of a photo).
The way back to grey therefore rescales them to sum to 1, and a pixel whose
three channels are equal comes back as that value exactly, without arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["LUMA", "as_rgb", "hsv_to_rgb", "luma", "rgb_to_hsv", "to_grey"]

# The weights of the reference's rgb2gray (frost, spatter).
LUMA = (0.2989, 0.5870, 0.1140)


def luma(rgb: torch.Tensor, weights: tuple[float, float, float] = LUMA) -> torch.Tensor:
    """``[N, 3, H, W]`` -> ``[N, 1, H, W]`` weighted sum of the channels."""
    w = torch.tensor(weights, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return (rgb * w).sum(1, keepdim=True)


def to_grey(rgb: torch.Tensor) -> torch.Tensor:
    """``[N, 3, H, W]`` -> ``[N, 1, H, W]``: luma with weights summing to 1; grey pixels map to their value exactly."""
    total = sum(LUMA)
    grey = luma(rgb, (LUMA[0] / total, LUMA[1] / total, LUMA[2] / total))
    r, g, b = rgb[:, :1], rgb[:, 1:2], rgb[:, 2:]
    # A float sum of weights that add up to 1 can still miss the value by an ulp; grey needs no sum.
    return torch.where((r == g) & (g == b), r, grey)


def as_rgb(
    x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor], back: Callable[[torch.Tensor], torch.Tensor] = to_grey
) -> torch.Tensor:
    """Apply an RGB function to a 1- or 3-channel batch (1 channel: repeat, apply, ``back``)."""
    if x.shape[1] == 3:
        return fn(x)
    return back(fn(x.expand(-1, 3, -1, -1)))


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """skimage.color.rgb2hsv on ``[N, 3, H, W]`` (hue in [0, 1), ties resolved as skimage does)."""
    r, g, b = rgb.unbind(1)
    v = rgb.amax(1)
    delta = v - rgb.amin(1)
    safe = torch.where(delta == 0, torch.ones_like(delta), delta)
    s = torch.where(v == 0, torch.zeros_like(v), delta / torch.where(v == 0, torch.ones_like(v), v))
    s = torch.where(delta == 0, torch.zeros_like(s), s)
    # skimage assigns red, then green, then blue: the last maximum wins.
    h = torch.zeros_like(v)
    h = torch.where(r == v, (g - b) / safe, h)
    h = torch.where(g == v, 2.0 + (b - r) / safe, h)
    h = torch.where(b == v, 4.0 + (r - g) / safe, h)
    h = torch.remainder(h / 6.0, 1.0)
    h = torch.where(delta == 0, torch.zeros_like(h), h)
    return torch.stack([h, s, v], 1)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """skimage.color.hsv2rgb on ``[N, 3, H, W]``."""
    h, s, v = hsv.unbind(1)
    hi = torch.floor(h * 6)
    f = h * 6 - hi
    p = v * (1 - s)
    q = v * (1 - f * s)
    t = v * (1 - (1 - f) * s)
    sector = hi.to(torch.int64).remainder(6)
    options = torch.stack(
        [
            torch.stack([v, t, p], 1),
            torch.stack([q, v, p], 1),
            torch.stack([p, v, t], 1),
            torch.stack([p, q, v], 1),
            torch.stack([t, p, v], 1),
            torch.stack([v, p, q], 1),
        ],
        0,
    )  # [6, N, 3, H, W]
    index = sector[None, :, None].expand(1, -1, 3, -1, -1)
    return options.gather(0, index)[0]
