"""The corruption output contract, checked on every corrupted batch a run scores and by the plugin kit."""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["OutputRule", "output_problem"]

OutputRule = Literal["corruption.shape", "corruption.dtype", "corruption.range"]


def output_problem(what: str, x: torch.Tensor, out: object) -> tuple[OutputRule, str] | None:
    """What is wrong with a corruption's output for the batch ``x``, or None.

    Args:
        what: How to name the corruption in the message (``corruption 'fog' (severity 3)``).
        x: The input batch.
        out: What the corruption returned.

    Returns:
        ``(rule, message)`` for the first broken rule: the same shape, the same
        dtype and device, finite pixels in [0, 1].
    """
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return "corruption.shape", f"{what} turned {list(x.shape)} into {got}"
    if out.dtype != x.dtype or out.device != x.device:
        return "corruption.dtype", f"{what} returned {out.dtype} on {out.device} for {x.dtype} on {x.device}"
    if not bool(torch.isfinite(out).all()):
        return "corruption.range", f"{what} returned NaN or inf"
    lo, hi = float(out.min()), float(out.max())
    if lo < 0.0 or hi > 1.0:
        return "corruption.range", f"{what} returned pixels in [{lo:.6g}, {hi:.6g}], outside [0, 1]; clamp the result"
    return None
