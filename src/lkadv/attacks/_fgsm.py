"""FGSM: one gradient step of size eps (Goodfellow et al. 2015)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from lkadv.attacks._losses import attack_loss
from lkadv.attacks._params import FGSM_PARAMS, bind
from lkadv.engine import ascent_direction, attack_view, input_gradient, project
from lkadv.specs import Param

__all__ = ["FGSM"]


class FGSM:
    """Fast gradient sign method, untargeted: L-inf sign step, or L2 normalized step.

    Args:
        norm: ``"linf"`` or ``"l2"``.
        **params: Any parameter of :data:`PARAMS` (the loss).
    """

    PARAMS: ClassVar[Mapping[str, Param]] = FGSM_PARAMS

    def __init__(self, *, norm: str = "linf", **params: Any) -> None:
        p = bind("fgsm", self.PARAMS, params)
        self.norm = norm
        self.loss = attack_loss(p["loss"])

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``."""
        if eps <= 0 or len(x) == 0:
            return x.detach().clone()
        with attack_view(classifier) as model:
            grad = input_gradient(model, x, lambda logits, rows: self.loss(logits, y[rows], None))[2]
        with torch.no_grad():
            step = eps * ascent_direction(grad, self.norm)
            return (x + project(step, eps, self.norm)).clamp_(0, 1)
