"""Batched top-1 scoring of transformed images, and small parsing helpers shared by the analyses."""

from __future__ import annotations

from collections.abc import Callable

import torch

from lkadv.errors import ConfigError

__all__ = ["count_correct", "parse_floats"]


@torch.no_grad()
def count_correct(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    transform: Callable[[torch.Tensor, int], torch.Tensor] | None = None,
) -> int:
    """Top-1 hits over ``x``, batch by batch, after ``transform(batch, start)``.

    Args:
        model: Classifier taking images in [0, 1].
        x: Images (any device; each batch moves to the model's).
        y: Labels.
        batch_size: Images per forward pass.
        transform: Applied to each batch on the model's device, with the batch's first index.
    """
    device = next(iter([*model.parameters(), *model.buffers()]), torch.zeros(())).device
    hits = 0
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device)
        if transform is not None:
            xb = transform(xb, start)
        pred = model(xb).argmax(1)
        hits += int((pred == y[start : start + batch_size].to(device)).sum())
    return hits


def parse_floats(text: str, name: str, *, low: float, high: float, low_open: bool = False) -> tuple[float, ...]:
    """Comma-separated numbers within ``[low, high]`` (``(low, high]`` if ``low_open``).

    Raises:
        ConfigError: Naming the parameter and the bad value.
    """
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError as exc:
        raise ConfigError(f"parameter {name!r}: {text!r} is not a comma-separated list of numbers") from exc
    interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
    for v in values:
        if v > high or v < low or (low_open and v == low):
            raise ConfigError(f"parameter {name!r}: {v:g} is outside {interval}")
    if not values:
        raise ConfigError(f"parameter {name!r} needs at least one value")
    return values
