"""Projected gradient descent (and FGSM, its one-step case), with early stop.

Early stop is batch compaction: a sample whose current iterate is already
misclassified keeps that iterate and leaves the batch, so each later step
forwards and backpropagates only the samples still standing. The check costs
nothing extra because the forward pass that feeds the gradient gives the logits.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.attacks._norms import ascent_direction, project, random_init

__all__ = ["FGSM", "PGD", "LOSSES"]


def _ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, y, reduction="sum")


def _margin(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # Carlini-Wagner margin: best wrong logit minus true logit (ascend it).
    true = logits.gather(1, y[:, None]).squeeze(1)
    other = logits.scatter(1, y[:, None], float("-inf")).amax(1)
    return (other - true).sum()


LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {"ce": _ce, "margin": _margin}


class PGD:
    """Untargeted PGD under L-inf, L2 or L1.

    Args:
        norm: ``"linf"``, ``"l2"`` or ``"l1"``.
        steps: Gradient steps per restart.
        rel_step: Step size as a fraction of eps (used when ``step_size`` is None).
        step_size: Absolute step size in pixel units.
        random_start: Start from a random point of the ball (else from ``x``).
        restarts: Independent runs; a sample counts as fooled if any run fools it.
        loss: ``"ce"`` (cross-entropy) or ``"margin"`` (CW margin).
        early_stop: Drop samples from the batch as soon as they are misclassified.
    """

    def __init__(
        self,
        *,
        norm: str = "linf",
        steps: int = 10,
        rel_step: float = 0.25,
        step_size: float | None = None,
        random_start: bool = True,
        restarts: int = 1,
        loss: str = "ce",
        early_stop: bool = True,
    ) -> None:
        self.norm = norm
        self.steps = steps
        self.rel_step = rel_step
        self.step_size = step_size
        self.random_start = random_start
        self.restarts = max(1, restarts)
        self.loss = LOSSES[loss]
        self.early_stop = early_stop

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``."""
        out = x.detach().clone()
        if eps <= 0 or len(x) == 0:
            return out
        alpha = self.step_size if self.step_size is not None else self.rel_step * eps
        todo = torch.arange(len(x), device=x.device)
        for restart in range(self.restarts):
            fooled = self._run(classifier, x[todo], y[todo], eps, alpha, generator, out, todo)
            if restart + 1 < self.restarts:
                todo = todo[~fooled]
                if len(todo) == 0:
                    break
        return out

    def _run(
        self,
        classifier: nn.Module,
        x0: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        alpha: float,
        generator: torch.Generator,
        out: torch.Tensor,
        idx: torch.Tensor,
    ) -> torch.Tensor:
        """One restart on the samples ``idx``; writes into ``out``; returns who is fooled."""
        x0 = x0.detach()
        if self.random_start:
            delta = random_init(tuple(x0.shape), eps, self.norm, generator, x0.device)
            x_cur = (x0 + delta).clamp_(0, 1)
        else:
            x_cur = x0.clone()
        fooled_all = torch.zeros(len(x0), dtype=torch.bool, device=x0.device)
        live = torch.arange(len(x0), device=x0.device)
        for _ in range(self.steps):
            x_cur.requires_grad_(True)
            logits = classifier(x_cur)
            if self.early_stop:
                hit = logits.detach().argmax(1) != y
                if bool(hit.any()):
                    out[idx[live[hit]]] = x_cur.detach()[hit]
                    fooled_all[live[hit]] = True
                    keep = ~hit
                    if not bool(keep.any()):
                        return fooled_all
                    grad = torch.autograd.grad(self.loss(logits[keep], y[keep]), x_cur)[0][keep]
                    x_cur, x0, y, live = x_cur.detach()[keep], x0[keep], y[keep], live[keep]
                else:
                    grad = torch.autograd.grad(self.loss(logits, y), x_cur)[0]
            else:
                grad = torch.autograd.grad(self.loss(logits, y), x_cur)[0]
            with torch.no_grad():
                stepped = x_cur.detach() + alpha * ascent_direction(grad, self.norm)
                x_cur = (x0 + project(stepped - x0, eps, self.norm)).clamp_(0, 1)
        x_cur = x_cur.detach()
        out[idx[live]] = x_cur
        if self.restarts > 1:
            # A later restart only gets the samples this one could not fool.
            with torch.no_grad():
                fooled_all[live] = classifier(x_cur).argmax(1) != y
        return fooled_all


class FGSM:
    """Fast gradient sign method: one step of size eps (L-inf sign, or L2 normalized)."""

    def __init__(self, *, norm: str = "linf", loss: str = "ce") -> None:
        self.norm = norm
        self.loss = LOSSES[loss]

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``."""
        if eps <= 0 or len(x) == 0:
            return x.detach().clone()
        x_req = x.detach().clone().requires_grad_(True)
        grad = torch.autograd.grad(self.loss(classifier(x_req), y), x_req)[0]
        with torch.no_grad():
            step = eps * ascent_direction(grad, self.norm)
            return (x + project(step, eps, self.norm)).clamp_(0, 1)
