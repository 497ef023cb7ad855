"""The gallery of adversarial examples: original, perturbation magnified, adversarial, both predictions.

The page takes plain in-memory examples (uint8 images as a person would save
them), so it does not depend on how a run directory stores them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Example", "gallery_items"]


@dataclass(frozen=True)
class Example:
    """One saved adversarial example.

    Attributes:
        model: Model attacked.
        threat: Threat label (``pgd@8/255``).
        sample_id: The sample's id in its dataset.
        label: True class.
        original: Clean image, uint8, H x W x C (C = 1 or 3) or H x W.
        adversarial: Adversarial image, same shape and dtype.
        pred_original: Prediction on the clean image.
        pred_adversarial: Prediction on the adversarial image.
    """

    model: str
    threat: str
    sample_id: str
    label: int
    original: np.ndarray
    adversarial: np.ndarray
    pred_original: int
    pred_adversarial: int


def _check(example: Example) -> None:
    for name in ("original", "adversarial"):
        image = getattr(example, name)
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
            raise ValueError(f"example {example.sample_id!r}: {name} must be a uint8 numpy array (H x W x C)")
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3)):
            raise ValueError(
                f"example {example.sample_id!r}: {name} has shape {image.shape}; expected H x W or H x W x 1|3"
            )
    if example.original.shape != example.adversarial.shape:
        raise ValueError(
            f"example {example.sample_id!r}: original {example.original.shape} and adversarial "
            f"{example.adversarial.shape} differ in shape"
        )


def _png_uri(image: np.ndarray) -> str:
    from PIL import Image

    pixels = image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _magnified(original: np.ndarray, adversarial: np.ndarray) -> tuple[np.ndarray, int]:
    """The perturbation around mid-grey, stretched so its largest change fills the range; and that change."""
    diff = adversarial.astype(np.int16) - original.astype(np.int16)
    peak = int(np.abs(diff).max())
    gain = 127.0 / peak if peak else 0.0
    return np.clip(128 + np.round(diff * gain), 0, 255).astype(np.uint8), peak


def gallery_items(
    examples: Iterable[Example], class_names: Sequence[str] | None = None, per_cell: int = 4
) -> list[dict[str, Any]]:
    """Each example ready for the page: three PNG data URIs and its captions (at most ``per_cell`` per cell).

    Args:
        examples: Saved examples, any order.
        class_names: Names of the classes (default: the class numbers).
        per_cell: Examples shown per (model, threat).

    Raises:
        ValueError: For an example whose images are not uint8 H x W (x C) pairs of one shape.
    """
    shown: dict[tuple[str, str], int] = {}
    items = []
    for ex in examples:
        _check(ex)
        cell = (ex.model, ex.threat)
        if shown.get(cell, 0) >= per_cell:
            continue
        shown[cell] = shown.get(cell, 0) + 1
        perturbation, peak = _magnified(ex.original, ex.adversarial)

        def name(k: int) -> str:
            return class_names[k] if class_names is not None and 0 <= k < len(class_names) else str(k)

        items.append(
            {
                "model": ex.model,
                "threat": ex.threat,
                "sample_id": ex.sample_id,
                "label": name(ex.label),
                "pred_original": name(ex.pred_original),
                "pred_adversarial": name(ex.pred_adversarial),
                "fooled": ex.pred_adversarial != ex.label,
                "peak": peak,
                "original": _png_uri(ex.original),
                "perturbation": _png_uri(perturbation),
                "adversarial": _png_uri(ex.adversarial),
            }
        )
    return items
