"""The Classifier: every model as a [0,1]-in, fp32-logits-out, eval-only module."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.autograd.function import FunctionCtx, once_differentiable

from lkadv.errors import ModelContractError

__all__ = ["LOSS_SCALE_TARGET", "PRECISIONS", "Classifier", "GradStats", "adapt_output"]

PRECISIONS: Mapping[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}

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


def adapt_output(out: Any) -> torch.Tensor:
    """Extract the logits from what a network returns.

    Accepts a tensor; a tuple or list whose first item is the logits (timm
    distillation heads, auxiliary outputs); a mapping with ``logits`` (or a
    single tensor value); or an object with a ``logits`` attribute (Hugging
    Face outputs).

    Raises:
        ModelContractError: If no logits can be found.
    """
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, Mapping):
        if "logits" in out:
            return adapt_output(out["logits"])
        tensors = [v for v in out.values() if isinstance(v, torch.Tensor)]
        if len(tensors) == 1:
            return tensors[0]
        raise ModelContractError(f"model returned a dict with keys {sorted(out)} and no 'logits' entry")
    if isinstance(out, Sequence) and out and not isinstance(out, str):
        return adapt_output(out[0])
    logits = getattr(out, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    raise ModelContractError(f"model returned {type(out).__name__}, which holds no logits tensor")


class Classifier(nn.Module):
    """A network behind the lkadv model contract.

    Inputs are float NCHW images in [0, 1] at the native size; normalization
    happens inside, so attacks and corruptions work in pixel units. The network
    stays in eval mode whatever ``train()`` is asked, its parameters never need
    gradients, and the logits always come back as float32 on the input's device.
    Under ``precision="bf16"``/``"fp16"`` the network runs under autocast while
    the normalization and the returned logits stay in fp32, so losses built on
    them are fp32 too.

    When the input requires a gradient, the Classifier watches it on the way
    back (:attr:`grad_stats` counts all-zero and overflowed sample gradients),
    and under fp16 it applies per-sample loss scaling: each sample's logit
    gradient is multiplied by a power of two that brings its largest entry to
    :data:`LOSS_SCALE_TARGET` before it enters the fp16 network, and divided out
    again (exactly) at the input. Any attack benefits, native or not, since it
    happens inside the model.

    Args:
        network: The model, expecting normalized input.
        mean: Per-channel mean.
        std: Per-channel std.
        num_classes: Expected logit count (checked on every call).
        precision: ``"fp32"``, ``"bf16"`` or ``"fp16"``.
        name: Name used in messages.
        channels_last: Run the network in channels-last memory format (converts it
            in place); 1.2-1.5x faster convolutions on CPU and tensor-core GPUs.
    """

    def __init__(
        self,
        network: nn.Module,
        *,
        mean: Sequence[float],
        std: Sequence[float],
        num_classes: int,
        precision: str = "fp32",
        name: str = "model",
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
        self.network = network.eval()
        for p in self.network.parameters():
            p.requires_grad_(False)
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))
        self.num_classes = num_classes
        self.precision = precision
        self.name = name
        self.training = False
        self.grad_stats = GradStats()
        self.channels_last = channels_last
        if channels_last:
            self.network.to(memory_format=torch.channels_last)

    def train(self, mode: bool = True) -> Classifier:
        """Stay in eval mode: BatchNorm statistics and dropout must never change results."""
        self.network.eval()
        self.training = False
        return self

    @property
    def device(self) -> torch.device:
        """Device of the network's buffers and parameters."""
        return self.mean.device

    def with_precision(self, precision: str) -> Classifier:
        """A view of the same network running at another precision (shares weights)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
        return self._view(self.network, precision, GradStats())

    def with_network(self, network: nn.Module) -> Classifier:
        """This Classifier around another network computing the same function.

        The view keeps the normalization, precision and memory format, and
        counts its gradients in this Classifier's :attr:`grad_stats`. Attacks
        use it to differentiate a faster equivalent network
        (see :func:`lkadv.models.fold_batchnorm`).
        """
        return self._view(network, self.precision, self.grad_stats)

    def _view(self, network: nn.Module, precision: str, stats: GradStats) -> Classifier:
        twin = Classifier.__new__(Classifier)
        nn.Module.__init__(twin)
        twin.network = network
        twin.register_buffer("mean", self.mean)
        twin.register_buffer("std", self.std)
        twin.num_classes, twin.name, twin.training = self.num_classes, self.name, False
        twin.channels_last = self.channels_last
        twin.precision = precision
        twin.grad_stats = stats
        return twin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (float32) of images in [0, 1]."""
        x = x.to(self.device)
        state = None
        if torch.is_grad_enabled() and x.requires_grad:
            state = _Pass(self.grad_stats, scale=self.precision == "fp16")
            x = _WatchInputGrad.apply(x, state)
        z = (x - self.mean) / self.std
        if self.channels_last and z.ndim == 4:
            z = z.contiguous(memory_format=torch.channels_last)
        dtype = PRECISIONS[self.precision]
        ctx = torch.autocast(self.device.type, dtype=dtype) if dtype is not None else nullcontext()
        with ctx:
            out = adapt_output(self.network(z))
        if out.ndim != 2 or out.shape[1] != self.num_classes:
            raise ModelContractError(
                f"{self.name}: expected logits of shape [N, {self.num_classes}], got {list(out.shape)}"
            )
        out = out.float()
        if state is not None:
            out = _ScaleLogitGrad.apply(out, state)
        return out
