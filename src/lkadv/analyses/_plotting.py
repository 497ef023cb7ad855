"""Shared figure helpers: one colour per model, large kernels in warm colours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["model_colors", "panels"]

_PALETTE = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#17becf")


def model_colors(models: Sequence[str]) -> dict[str, str]:
    """A stable colour per model, in the order given."""
    return {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(models)}


def panels(figure: Any, count: int, width: float = 4.2, height: float = 3.4) -> list[Any]:
    """``count`` side-by-side axes in ``figure``, sized to fit them."""
    figure.set_size_inches(width * max(count, 1), height)
    axes = figure.subplots(1, max(count, 1), squeeze=False)[0]
    return list(axes)
