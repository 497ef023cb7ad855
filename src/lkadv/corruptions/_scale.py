"""How the 224-px severity parameters carry over to other resolutions.

The ImageNet-C parameters are defined on 224 x 224 images. lkadv applies them
at any resolution with one rule, based on ``side = min(H, W)``:

* **Per-pixel and global corruptions** (gaussian/shot/impulse/speckle noise,
  brightness, contrast, saturate, jpeg) have no length in them and run at the
  native resolution with the 224-px parameters. Pixelate and zoom blur are
  defined relative to the image size and run natively too.
* **Spatial corruptions** (defocus/glass/motion/gaussian blur, snow, frost,
  fog, spatter, elastic) have lengths in pixels. The image is first
  supersampled by the integer ``k = max(1, round(224 / side))`` (nearest
  neighbour, so each pixel becomes a ``k x k`` block), corrupted with every
  length multiplied by ``s = side * k / 224``, and box-averaged back by ``k``.
  At 224 px, ``k = 1`` and ``s = 1``: the reference parameters exactly. At
  28 px (Fashion-MNIST), ``k = 8`` and ``s = 1``: the corruption is the
  224-px one of the 8x enlarged image, seen at 28 px. Above 224 px, ``k = 1``
  and lengths grow with ``s = side / 224`` (radii, sigmas, displacements
  rounded where the reference uses integers); random layers (snow, spatter,
  fog, frost) are drawn at the 224-px-equivalent size and resized.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["REFERENCE_SIDE", "reference_size", "render_factor", "resize_layer", "supersampled"]

REFERENCE_SIDE = 224


def render_factor(height: int, width: int) -> tuple[int, float]:
    """``(k, s)``: the supersampling factor and the length scale at that render size."""
    side = min(height, width)
    k = max(1, round(REFERENCE_SIDE / side))
    return k, side * k / REFERENCE_SIDE


def supersampled(x: torch.Tensor, fn: Callable[[torch.Tensor, float], torch.Tensor]) -> torch.Tensor:
    """Run ``fn(x_k, s)`` on ``x`` supersampled by ``k`` and box-average the result back.

    Args:
        x: NCHW batch in [0, 1].
        fn: The corruption at length scale ``s`` (1.0 means the 224-px parameters).

    Returns:
        The corrupted batch at the input's size.
    """
    k, s = render_factor(*x.shape[-2:])
    if k == 1:
        return fn(x, s)
    big = x.repeat_interleave(k, dim=-2).repeat_interleave(k, dim=-1)
    return F.avg_pool2d(fn(big, s), k)


def resize_layer(layer: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a ``[N, C, h, w]`` layer drawn at the 224-px-equivalent size to ``size``."""
    if tuple(layer.shape[-2:]) == tuple(size):
        return layer
    return F.interpolate(layer, size=size, mode="bilinear", align_corners=False, antialias=True)


def reference_size(height: int, width: int, s: float) -> tuple[int, int]:
    """The 224-px-equivalent size of an ``height x width`` image at length scale ``s``."""
    return max(1, round(height / s)), max(1, round(width / s))
