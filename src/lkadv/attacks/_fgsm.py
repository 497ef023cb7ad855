"""FGSM: one gradient step of size eps (Goodfellow et al. 2015)."""

from __future__ import annotations

import torch
from torch import nn

from lkadv.attacks._lanes import input_gradient
from lkadv.attacks._losses import LOSSES, attack_loss
from lkadv.attacks._norms import ascent_direction, project
from lkadv.attacks._view import attack_view
from lkadv.errors import ConfigError

__all__ = ["FGSM"]


class FGSM:
    """Fast gradient sign method, untargeted: L-inf sign step, or L2 normalized step.

    Args:
        norm: ``"linf"`` or ``"l2"``.
        loss: ``"ce"``, ``"margin"`` or ``"dlr"``.
    """

    def __init__(self, *, norm: str = "linf", loss: str = "ce") -> None:
        if loss not in LOSSES:
            raise ConfigError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
        self.norm = norm
        self.loss = attack_loss(loss)

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
