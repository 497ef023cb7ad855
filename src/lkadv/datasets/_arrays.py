"""An ImageSet over an in-memory uint8 array (small, shipped datasets)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from lkadv.specs import Preprocessing

__all__ = ["ArrayImageSet"]

_MODES = {"nearest": "nearest", "bilinear": "bilinear", "bicubic": "bicubic"}


class ArrayImageSet:
    """Samples held as a uint8 ``[N, C, H, W]`` array, converted per batch.

    Resizing (and 1 -> 3 channel repetition) happens only when the preprocessing
    asks for another size than the data's own.

    Args:
        images: uint8 array ``[N, H, W]`` or ``[N, C, H, W]``.
        labels: int64 labels ``[N]``.
        ids: Stable sample identifiers.
        preprocessing: Target input size and interpolation.
        info: Facts worth recording with results.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        ids: Sequence[str],
        preprocessing: Preprocessing,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if images.ndim == 3:
            images = images[:, None]
        self._images = torch.from_numpy(np.ascontiguousarray(images))
        self._labels = torch.from_numpy(np.asarray(labels, dtype=np.int64))
        self._ids = list(ids)
        self._pre = preprocessing
        self._info = dict(info or {})

    @property
    def ids(self) -> Sequence[str]:
        """Stable identifiers, one per sample."""
        return self._ids

    @property
    def labels(self) -> torch.Tensor:
        """Int64 labels."""
        return self._labels

    @property
    def info(self) -> Mapping[str, Any]:
        """Facts worth recording with results."""
        return self._info

    def __len__(self) -> int:
        return len(self._ids)

    def load(self, positions: Sequence[int]) -> torch.Tensor:
        """Float32 images in [0, 1] at the preprocessing size."""
        x = self._images[torch.as_tensor(list(positions), dtype=torch.long)].float().div_(255.0)
        c, h, w = self._pre.input_size
        if x.shape[1] != c:
            if x.shape[1] == 1:
                x = x.expand(-1, c, -1, -1).contiguous()
            else:
                x = x.mean(1, keepdim=True).expand(-1, c, -1, -1).contiguous()
        if x.shape[-2:] != (h, w):
            mode = _MODES.get(self._pre.interpolation, "bilinear")
            kwargs = {"antialias": True, "align_corners": False} if mode != "nearest" else {}
            x = F.interpolate(x, size=(h, w), mode=mode, **kwargs).clamp_(0, 1)
        return x
