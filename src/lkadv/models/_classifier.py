"""The Classifier: every model as a [0,1]-in, fp32-logits-out, eval-only module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from typing import Any

import torch
from torch import nn

from lkadv.errors import ModelContractError
from lkadv.models._gradients import GradStats, scale_logits, watch_input
from lkadv.types import PRECISIONS, Precision

__all__ = ["Classifier", "adapt_output", "autocast_dtype"]


def autocast_dtype(precision: Precision) -> torch.dtype | None:
    """The autocast dtype of a precision (None: fp32, no autocast)."""
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


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
    :data:`lkadv.models.LOSS_SCALE_TARGET` before it enters the fp16 network, and divided out
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
        precision: Precision = "fp32",
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

    def with_precision(self, precision: Precision) -> Classifier:
        """A view of the same network running at another precision (shares weights)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
        return self._view(self.network, precision, GradStats())

    def with_network(self, network: nn.Module) -> Classifier:
        """This Classifier around another network computing the same function.

        The view keeps the normalization, precision and memory format, and
        counts its gradients in this Classifier's :attr:`grad_stats`. Attacks
        use it to differentiate a faster equivalent network
        (see :func:`lkadv.engine.fold_batchnorm`).
        """
        return self._view(network, self.precision, self.grad_stats)

    def _view(self, network: nn.Module, precision: Precision, stats: GradStats) -> Classifier:
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
            x, state = watch_input(x, self.grad_stats, scale=self.precision == "fp16")
        z = (x - self.mean) / self.std
        if self.channels_last and z.ndim == 4:
            z = z.contiguous(memory_format=torch.channels_last)
        dtype = autocast_dtype(self.precision)
        ctx = torch.autocast(self.device.type, dtype=dtype) if dtype is not None else nullcontext()
        with ctx:
            out = adapt_output(self.network(z))
        if out.ndim != 2 or out.shape[1] != self.num_classes:
            raise ModelContractError(
                f"{self.name}: expected logits of shape [N, {self.num_classes}], got {list(out.shape)}"
            )
        out = out.float()
        if state is not None:
            out = scale_logits(out, state)
        return out
