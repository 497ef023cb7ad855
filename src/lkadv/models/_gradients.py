"""Gradients through a Classifier: per-sample fp16 loss scaling and counts of degenerate gradients.

They live inside the model's forward pass, not in the attack engine, because
every attack must get them: AutoAttack and third-party attacks call the model
directly and never go through :mod:`lkadv.engine`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.autograd.function import FunctionCtx, once_differentiable

__all__ = ["LOSS_SCALE_TARGET", "GradStats", "watch_input", "scale_logits"]

# fp16 loss scaling: each sample's logit gradient is scaled by a power of two so that its
# largest entry is about this size before it enters the fp16 network. fp16 represents
# 6e-8 .. 65504: the target leaves ~12 binary orders of magnitude below for gradients that
# shrink through the network and 8 above for gradients that grow.
LOSS_SCALE_TARGET = 2.0**8


@dataclass
class GradStats:
    """What the input gradients of a Classifier looked like (counted per sample row).

    Attributes:
        rows: Sample gradients computed.
        zero_rows: Rows that were entirely zero (no direction to follow).
        nonfinite_rows: Rows that overflowed (inf/NaN); they are zeroed, and counted here.
        scaled_rows: Rows that went through fp16 loss scaling.
    """

    rows: int = 0
    zero_rows: int = 0
    nonfinite_rows: int = 0
    scaled_rows: int = 0
    # Attacks may run the backward passes of one batch on several CPU threads at once.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def reset(self) -> None:
        """Start counting again."""
        with self._lock:
            self.rows = self.zero_rows = self.nonfinite_rows = self.scaled_rows = 0

    def __getstate__(self) -> dict[str, Any]:
        """Pickle and copy the counts, not the lock."""
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def add(self, *, rows: int = 0, zero_rows: int = 0, nonfinite_rows: int = 0, scaled_rows: int = 0) -> None:
        """Count more rows (thread-safe)."""
        with self._lock:
            self.rows += rows
            self.zero_rows += zero_rows
            self.nonfinite_rows += nonfinite_rows
            self.scaled_rows += scaled_rows

    def as_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return {
            "rows": self.rows,
            "zero_rows": self.zero_rows,
            "nonfinite_rows": self.nonfinite_rows,
            "scaled_rows": self.scaled_rows,
        }


class _Pass:
    """State shared by the two ends of one forward pass during its backward pass."""

    def __init__(self, stats: GradStats, scale: bool) -> None:
        self.stats = stats
        self.scale_enabled = scale
        self.scale: torch.Tensor | None = None


def _rows(t: torch.Tensor) -> torch.Tensor:
    return t.reshape(t.shape[0], -1)


class _ScaleLogitGrad(torch.autograd.Function):
    """Identity on the logits; on the way back, per-sample loss scaling for fp16."""

    @staticmethod
    def forward(ctx: FunctionCtx, logits: torch.Tensor, state: _Pass) -> torch.Tensor:
        ctx.state = state  # type: ignore[attr-defined]
        return logits.view_as(logits)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        state: _Pass = ctx.state  # type: ignore[attr-defined]
        if not state.scale_enabled:
            return grad, None
        top = _rows(grad).abs().amax(1)
        # A power of two, so that unscaling at the input is exact.
        exponent = torch.where(top > 0, torch.floor(torch.log2(LOSS_SCALE_TARGET / top.clamp_min(1e-30))), 0.0)
        scale = torch.exp2(exponent.clamp(-60, 120))
        state.scale = scale
        return grad * scale.view(-1, *([1] * (grad.ndim - 1))), None


class _WatchInputGrad(torch.autograd.Function):
    """Identity on the input; on the way back, unscale, zero overflowed rows and count."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: torch.Tensor, state: _Pass) -> torch.Tensor:
        ctx.state = state  # type: ignore[attr-defined]
        return x.view_as(x)

    @staticmethod
    @once_differentiable
    def backward(ctx: FunctionCtx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        state: _Pass = ctx.state  # type: ignore[attr-defined]
        grad = grad.float()
        shape = (-1, *([1] * (grad.ndim - 1)))
        scaled = 0
        if state.scale is not None:
            grad = grad / state.scale.view(shape)
            scaled = int(grad.shape[0])
        finite = torch.isfinite(_rows(grad)).all(1)
        grad = torch.where(finite.view(shape), grad, torch.zeros((), dtype=grad.dtype, device=grad.device))
        zero = _rows(grad).abs().amax(1) == 0
        state.stats.add(
            rows=int(grad.shape[0]),
            zero_rows=int((zero & finite).sum()),
            nonfinite_rows=int((~finite).sum()),
            scaled_rows=scaled,
        )
        return grad, None


def watch_input(x: torch.Tensor, stats: GradStats, *, scale: bool) -> tuple[torch.Tensor, _Pass]:
    """``x`` unchanged, watched on the way back (unscaled, overflow zeroed, counted in ``stats``)."""
    state = _Pass(stats, scale)
    return _WatchInputGrad.apply(x, state), state


def scale_logits(logits: torch.Tensor, state: _Pass) -> torch.Tensor:
    """``logits`` unchanged, with per-sample loss scaling of their gradient when ``state`` asks for it."""
    out: torch.Tensor = _ScaleLogitGrad.apply(logits, state)
    return out
