"""Projected gradient descent: norms, losses, targets, step-size schedules, restarts, early stop.

Early stop is batch compaction: a sample whose current iterate already reaches
the goal (misclassified; or classified as its target) keeps that iterate and
leaves the batch, so each later step forwards and backpropagates only the
samples still standing. The check costs nothing extra because the forward pass
that feeds the gradient gives the logits. Without early stop every sample takes
every step, but the first iterate that reached the goal is still the one
returned: the output is never weaker than the final iterate.

Restarts run only on the samples no earlier restart could move to the goal;
for the others the restart whose final iterate came closest (smallest goal
margin) is kept, so the result is the per-sample worst case over restarts.

Step-size schedules:

- ``fixed``: ``rel_step * eps`` (or ``step_size``) at every step.
- ``cosine``: from twice that step down to 0 along a half cosine (the mean step
  equals the fixed one): long strides first, fine steps at the end.
- ``apgd``: the adaptive schedule of APGD (Croce & Hein 2020): start at
  ``2 * eps`` (``eps`` for L1), momentum 0.75, and at each checkpoint halve the
  step of a sample and restart it from its best point when its loss rose in at
  most 75% of the steps since the last checkpoint, or when neither its step
  was halved at the last checkpoint nor its best loss improved since. The
  checkpoints follow the integer form pyautoattack uses (first after 22% of
  the steps, then ever shorter intervals, never below 6%).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from lkadv.attacks._losses import attack_loss, margin
from lkadv.attacks._params import APGD_PARAMS, PGD_PARAMS, bind
from lkadv.attacks._targets import check_target_mode, choose_targets
from lkadv.engine import ascent_direction, attack_view, input_gradient, project, random_init
from lkadv.specs import Param

__all__ = ["APGD", "PGD"]

_RHO = 0.75
_MOMENTUM = 0.75


def _bcast(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (like.ndim - 1)))


class _Checkpoints:
    """APGD's step-size checkpoints in pyautoattack's integer form."""

    def __init__(self, steps: int) -> None:
        self.interval = max(int(0.22 * steps), 1)
        self.shrink = max(int(0.03 * steps), 1)
        self.minimum = max(int(0.06 * steps), 1)
        self.since = 0

    def tick(self) -> int:
        """Count one step; returns the interval length when a checkpoint is reached, else 0."""
        self.since += 1
        if self.since < self.interval:
            return 0
        length = self.interval
        self.since = 0
        self.interval = max(self.interval - self.shrink, self.minimum)
        return length


@dataclass
class _Live:
    """The samples of one restart still in the batch: their iterates, origins, labels, targets, positions."""

    x: torch.Tensor
    x0: torch.Tensor
    y: torch.Tensor
    t: torch.Tensor | None
    idx: torch.Tensor

    def compact(self, keep: torch.Tensor) -> None:
        """Keep only the rows ``keep`` selects."""
        self.x, self.x0, self.y, self.idx = self.x[keep], self.x0[keep], self.y[keep], self.idx[keep]
        self.t = self.t[keep] if self.t is not None else None


@dataclass
class _Apgd:
    """APGD's per-sample step sizes, best points and checkpoint counters."""

    step: torch.Tensor
    x_prev: torch.Tensor
    x_best: torch.Tensor
    grad_best: torch.Tensor
    loss_best: torch.Tensor
    loss_prev: torch.Tensor
    loss_best_checked: torch.Tensor
    halved_last: torch.Tensor
    rises: torch.Tensor
    checkpoints: _Checkpoints

    @classmethod
    def start(cls, x: torch.Tensor, base: float, steps: int) -> _Apgd:
        """The state before the first step from the iterates ``x``."""
        n, device = len(x), x.device
        lowest = torch.full((n,), -math.inf, device=device)
        return cls(
            step=torch.full((n,), base, device=device),
            x_prev=x.clone(),
            x_best=x.clone(),
            grad_best=torch.zeros_like(x),
            loss_best=lowest,
            loss_prev=lowest.clone(),
            loss_best_checked=lowest.clone(),
            halved_last=torch.ones(n, dtype=torch.bool, device=device),
            rises=torch.zeros(n, device=device),
            checkpoints=_Checkpoints(steps),
        )

    def compact(self, keep: torch.Tensor) -> None:
        """Keep only the rows ``keep`` selects."""
        for name in ("step", "x_prev", "x_best", "grad_best", "loss_best", "loss_prev", "loss_best_checked"):
            setattr(self, name, getattr(self, name)[keep])
        self.halved_last, self.rises = self.halved_last[keep], self.rises[keep]

    def bookkeeping(
        self, k: int, x_cur: torch.Tensor, grad: torch.Tensor, loss: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Best-point tracking and the checkpoint decisions; returns the iterates and gradients to step from."""
        improved = loss > self.loss_best
        self.x_best[improved] = x_cur[improved]
        self.grad_best[improved] = grad[improved]
        self.loss_best[improved] = loss[improved]
        if k > 0:
            self.rises += (loss > self.loss_prev).float()
        length = self.checkpoints.tick()
        if length:
            oscillating = self.rises <= _RHO * length
            stalled = ~self.halved_last & (self.loss_best_checked >= self.loss_best)
            halve = oscillating | stalled
            self.halved_last.copy_(halve)
            self.loss_best_checked.copy_(self.loss_best)
            self.rises.zero_()
            if bool(halve.any()):
                self.step[halve] /= 2
                x_cur = torch.where(_bcast(halve, x_cur), self.x_best, x_cur)
                grad = torch.where(_bcast(halve, grad), self.grad_best, grad)
        self.loss_prev = loss
        return x_cur, grad


class PGD:
    """PGD under L-inf, L2 or L1, untargeted or targeted.

    Args:
        norm: ``"linf"``, ``"l2"`` or ``"l1"``.
        **params: Any parameter of :data:`PARAMS` (``lkadv list attacks pgd`` shows
            them with their defaults): steps, step size or schedule (see the module
            docstring), random start, restarts, loss, target mode and class, early stop.

    Raises:
        ConfigError: On an unknown parameter or a bad value.
    """

    PARAMS: ClassVar[Mapping[str, Param]] = PGD_PARAMS

    def __init__(self, *, norm: str = "linf", **params: Any) -> None:
        p = bind(type(self).__name__.lower(), self.PARAMS, params)
        check_target_mode(p["targeted"], p["target"])
        self.norm = norm
        self.steps: int = p["steps"]
        self.rel_step: float = p["rel_step"]
        self.step_size: float | None = p["step_size"]
        self.random_start: bool = p["random_start"]
        self.restarts: int = p["restarts"]
        self.loss_name: str = p["loss"]
        self.loss = attack_loss(self.loss_name)
        self.schedule: str = p["schedule"]
        self.targeted: str = p["targeted"]
        self.target: int | None = p["target"]
        self.early_stop: bool = p["early_stop"]

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``."""
        out = x.detach().clone()
        if eps <= 0 or len(x) == 0:
            return out
        t = choose_targets(self.targeted, self.target, classifier, x, y, generator)
        done = torch.zeros(len(x), dtype=torch.bool, device=x.device)
        best = torch.full((len(x),), math.inf, device=x.device)
        if t is not None:
            done |= t == y  # a sample already of its target class has nowhere to go
        todo = torch.nonzero(~done).squeeze(1)
        with attack_view(classifier) as model:
            for _ in range(self.restarts):
                if len(todo) == 0:
                    break
                self._run(model, (x, y, t), eps, generator, (out, done, best), todo)
                todo = todo[~done[todo]]
        return out

    # ----------------------------------------------------------------- inner

    def _base_step(self, eps: float) -> float:
        if self.schedule == "apgd":
            return (1.0 if self.norm == "l1" else 2.0) * eps
        return self.step_size if self.step_size is not None else self.rel_step * eps

    def _objective(self, y: torch.Tensor, t: torch.Tensor | None) -> Callable[[torch.Tensor, slice], torch.Tensor]:
        def objective(logits: torch.Tensor, rows: slice) -> torch.Tensor:
            return self.loss(logits, y[rows], None if t is None else t[rows])

        return objective

    def _goal(self, logits: torch.Tensor, y: torch.Tensor, t: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``(reached, distance)``: whether each sample reached the goal, and how far (< 0: past it)."""
        pred = logits.argmax(1)
        if t is None:
            return pred != y, margin(logits, y)
        return pred == t, -margin(logits, t)

    def _run(
        self,
        classifier: nn.Module,
        batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None],
        eps: float,
        generator: torch.Generator,
        result: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        idx: torch.Tensor,
    ) -> None:
        """One restart on the samples ``idx`` of ``batch`` = (x, y, targets); writes ``result`` = (out, done, best)."""
        x, y, t = batch
        x0 = x[idx].detach()
        if self.random_start:
            x_cur = (x0 + random_init(tuple(x0.shape), eps, self.norm, generator, x0.device)).clamp_(0, 1)
        else:
            x_cur = x0.clone()
        live = _Live(x_cur, x0, y[idx], t[idx] if t is not None else None, idx)
        base = self._base_step(eps)
        apgd = _Apgd.start(x_cur, base, self.steps) if self.schedule == "apgd" else None
        for k in range(self.steps):
            logits, loss, grad = input_gradient(classifier, live.x, self._objective(live.y, live.t))
            with torch.no_grad():
                keep = self._record_reached(logits, live, result)
                if self.early_stop and not bool(keep.all()):
                    if not bool(keep.any()):
                        return
                    live.compact(keep)
                    grad, loss = grad[keep], loss[keep]
                    if apgd is not None:
                        apgd.compact(keep)
                live.x = self._step(k, live, grad, loss, (base, eps), apgd)
        with torch.no_grad():
            self._finish(classifier, live, result)

    @staticmethod
    def _record_reached(
        logits: torch.Tensor, live: _Live, result: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        """Keep the first iterate that reaches the goal; returns the rows that have not."""
        out, done, best = result
        pred = logits.argmax(1)
        reached = pred != live.y if live.t is None else pred == live.t
        fresh = reached & ~done[live.idx]
        if bool(fresh.any()):
            out[live.idx[fresh]] = live.x[fresh]
            done[live.idx[fresh]] = True
            best[live.idx[fresh]] = -math.inf
        return ~reached

    def _step(
        self,
        k: int,
        live: _Live,
        grad: torch.Tensor,
        loss: torch.Tensor,
        sizes: tuple[float, float],
        apgd: _Apgd | None,
    ) -> torch.Tensor:
        """The next iterates (projected into the ball and [0, 1]); ``sizes`` is (base step, eps)."""
        base, eps = sizes
        x0 = live.x0
        if apgd is None:
            alpha = base
            if self.schedule == "cosine":
                alpha = base * (1 + math.cos(math.pi * k / self.steps))
            stepped = live.x + alpha * ascent_direction(grad, self.norm)
            return (x0 + project(stepped - x0, eps, self.norm)).clamp_(0, 1)
        x_cur, grad = apgd.bookkeeping(k, live.x, grad, loss)
        momentum = 1.0 if k == 0 else _MOMENTUM
        z = x0 + project(x_cur + _bcast(apgd.step, x_cur) * ascent_direction(grad, self.norm) - x0, eps, self.norm)
        z = z.clamp_(0, 1)
        nxt = x_cur + momentum * (z - x_cur) + (1 - momentum) * (x_cur - apgd.x_prev)
        apgd.x_prev = x_cur
        return (x0 + project(nxt - x0, eps, self.norm)).clamp_(0, 1)

    def _finish(
        self, classifier: nn.Module, live: _Live, result: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
    ) -> None:
        """The restart's final iterates of the samples not yet at the goal (per-sample worst over restarts)."""
        out, done, best = result
        pending = ~done[live.idx]
        if not bool(pending.any()):
            return
        live.compact(pending)
        if self.restarts == 1:
            out[live.idx] = live.x  # the only run: its final iterate, no extra forward pass
            return
        # Several restarts: score the final iterate to keep the per-sample worst case.
        reached, dist = self._goal(classifier(live.x), live.y, live.t)
        better = reached | (dist < best[live.idx])
        out[live.idx[better]] = live.x[better]
        best[live.idx[better]] = torch.where(reached[better], -math.inf, dist[better])
        done[live.idx[reached]] = True


class APGD(PGD):
    """PGD with APGD's defaults (adaptive step size with momentum, DLR loss, 100 steps); any PGD parameter."""

    PARAMS: ClassVar[Mapping[str, Param]] = APGD_PARAMS
