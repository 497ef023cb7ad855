"""The frost photographs (shipped in ``data/frost``, see its NOTICE) and their rescaling.

The reference reads one of five photographs, scales it so that it covers the
image with a 10% margin (OpenCV bicubic, 8-bit result) and takes a random crop.
Rescaled photographs are cached per image size.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

import numpy as np
import torch
import torch.nn.functional as F

from lkadv.errors import DataError

__all__ = ["FROST_FILES", "frost_layer", "rescaled_frost"]

# The reference draws among the first five (frost6.jpg is never used).
FROST_FILES = ("frost1.png", "frost2.png", "frost3.png", "frost4.jpg", "frost5.jpg")


@lru_cache(maxsize=8)
def _photo(index: int) -> torch.Tensor:
    """Photograph ``index`` as float ``[3, H, W]`` RGB in 0..255 (alpha dropped, as OpenCV's imread does)."""
    from PIL import Image

    path = resources.files("lkadv.corruptions") / "data" / "frost" / FROST_FILES[index]
    try:
        with resources.as_file(path) as file, Image.open(file) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    except (OSError, FileNotFoundError) as exc:
        raise DataError(f"frost image {FROST_FILES[index]} is missing or unreadable ({exc}); reinstall lkadv") from exc
    return torch.from_numpy(rgb.copy()).permute(2, 0, 1)


def _scale_factor(fh: int, fw: int, h: int, w: int) -> float:
    if fh >= h and fw >= w:
        factor = 1.0
    elif fh < h and fw >= w:
        factor = h / fh
    elif fh >= h and fw < w:
        factor = w / fw
    else:
        factor = max(h / fh, w / fw)
    return factor * 1.1


@lru_cache(maxsize=64)
def rescaled_frost(index: int, h: int, w: int) -> torch.Tensor:
    """Photograph ``index`` rescaled for an ``h x w`` image: float ``[3, H', W']`` in 0..255, 8-bit valued."""
    photo = _photo(index)
    fh, fw = photo.shape[-2:]
    factor = _scale_factor(fh, fw, h, w)
    size = (math.ceil(fh * factor), math.ceil(fw * factor))
    # OpenCV's INTER_CUBIC uses the same a = -0.75 kernel and half-pixel centres as torch's bicubic.
    out = F.interpolate(photo[None], size=size, mode="bicubic", align_corners=False)[0]
    return out.round().clamp(0, 255)


def frost_layer(index: int, h: int, w: int, top: int, left: int) -> torch.Tensor:
    """The ``h x w`` crop at ``(top, left)`` of the rescaled photograph, in [0, 1] (``[3, h, w]``)."""
    photo = rescaled_frost(index, h, w)
    return photo[:, top : top + h, left : left + w] / 255
