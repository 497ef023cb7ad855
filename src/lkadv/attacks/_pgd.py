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
from collections.abc import Callable

import torch
from torch import nn

from lkadv.attacks._lanes import input_gradient
from lkadv.attacks._losses import LOSSES, attack_loss, margin
from lkadv.attacks._norms import ascent_direction, project, random_init
from lkadv.attacks._targets import check_target_mode, choose_targets
from lkadv.attacks._view import attack_view
from lkadv.errors import ConfigError

__all__ = ["PGD", "SCHEDULES"]

SCHEDULES = ("fixed", "cosine", "apgd")
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


class PGD:
    """PGD under L-inf, L2 or L1, untargeted or targeted.

    Args:
        norm: ``"linf"``, ``"l2"`` or ``"l1"``.
        steps: Gradient steps per restart.
        rel_step: Step size as a fraction of eps (used when ``step_size`` is None).
        step_size: Absolute step size in pixel units.
        random_start: Start from a random point of the ball (else from ``x``).
        restarts: Independent runs; per sample the worst case is kept.
        loss: ``"ce"`` (cross-entropy), ``"margin"`` (CW margin) or ``"dlr"``
            (difference of logits ratio).
        schedule: ``"fixed"``, ``"cosine"`` or ``"apgd"`` (see the module docstring).
        targeted: ``"none"``, ``"given"`` (class ``target``), ``"random"`` or
            ``"least-likely"``.
        target: Target class for ``targeted="given"``.
        early_stop: Drop samples from the batch as soon as they reach the goal.

    Raises:
        ConfigError: On an unknown loss, schedule or target mode.
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
        schedule: str = "fixed",
        targeted: str = "none",
        target: int | None = None,
        early_stop: bool = True,
    ) -> None:
        if loss not in LOSSES:
            raise ConfigError(f"unknown loss {loss!r}; choose one of {list(LOSSES)}")
        if schedule not in SCHEDULES:
            raise ConfigError(f"unknown step-size schedule {schedule!r}; choose one of {list(SCHEDULES)}")
        check_target_mode(targeted, target)
        self.norm = norm
        self.steps = steps
        self.rel_step = rel_step
        self.step_size = step_size
        self.random_start = random_start
        self.restarts = max(1, restarts)
        self.loss_name = loss
        self.loss = attack_loss(loss)
        self.schedule = schedule
        self.targeted = targeted
        self.target = target
        self.early_stop = early_stop

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
            for restart in range(self.restarts):
                if len(todo) == 0:
                    break
                self._run(model, x, y, t, eps, generator, out, done, best, todo, last=restart + 1 == self.restarts)
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
        x: torch.Tensor,
        y_all: torch.Tensor,
        t_all: torch.Tensor | None,
        eps: float,
        generator: torch.Generator,
        out: torch.Tensor,
        done: torch.Tensor,
        best: torch.Tensor,
        idx: torch.Tensor,
        last: bool,
    ) -> None:
        """One restart on the samples ``idx``: writes ``out``, ``done`` and ``best`` in place."""
        x0 = x[idx].detach()
        y = y_all[idx]
        t = t_all[idx] if t_all is not None else None
        if self.random_start:
            x_cur = (x0 + random_init(tuple(x0.shape), eps, self.norm, generator, x0.device)).clamp_(0, 1)
        else:
            x_cur = x0.clone()
        live = idx
        base = self._base_step(eps)
        apgd = self.schedule == "apgd"
        n = len(x0)
        if apgd:
            step = torch.full((n,), base, device=x.device)
            x_prev = x_cur.clone()
            x_best = x_cur.clone()
            grad_best = torch.zeros_like(x_cur)
            loss_best = torch.full((n,), -math.inf, device=x.device)
            loss_prev = torch.full((n,), -math.inf, device=x.device)
            loss_best_checked = loss_best.clone()
            halved_last = torch.ones(n, dtype=torch.bool, device=x.device)
            rises = torch.zeros(n, device=x.device)
            checkpoints = _Checkpoints(self.steps)

        for k in range(self.steps):
            logits, loss, grad = input_gradient(classifier, x_cur, self._objective(y, t))
            with torch.no_grad():
                pred = logits.argmax(1)
                reached = pred != y if t is None else pred == t
                fresh = reached & ~done[live]
                if bool(fresh.any()):
                    out[live[fresh]] = x_cur[fresh]
                    done[live[fresh]] = True
                    best[live[fresh]] = -math.inf
                keep = ~reached
                if self.early_stop and not bool(keep.all()):
                    if not bool(keep.any()):
                        return
                    x_cur, x0, y, grad, loss, live = x_cur[keep], x0[keep], y[keep], grad[keep], loss[keep], live[keep]
                    t = t[keep] if t is not None else None
                    if apgd:
                        step, x_prev, x_best, grad_best = step[keep], x_prev[keep], x_best[keep], grad_best[keep]
                        loss_best, loss_prev, loss_best_checked = (
                            loss_best[keep],
                            loss_prev[keep],
                            loss_best_checked[keep],
                        )
                        halved_last, rises = halved_last[keep], rises[keep]
                if apgd:
                    x_cur, grad = self._apgd_bookkeeping(
                        k,
                        x_cur,
                        grad,
                        loss,
                        step,
                        x_best,
                        grad_best,
                        loss_best,
                        loss_prev,
                        loss_best_checked,
                        halved_last,
                        rises,
                        checkpoints,
                    )
                    loss_prev = loss
                    momentum = 1.0 if k == 0 else _MOMENTUM
                    z = x0 + project(
                        x_cur + _bcast(step, x_cur) * ascent_direction(grad, self.norm) - x0, eps, self.norm
                    )
                    z = z.clamp_(0, 1)
                    nxt = x_cur + momentum * (z - x_cur) + (1 - momentum) * (x_cur - x_prev)
                    x_prev = x_cur
                    x_cur = (x0 + project(nxt - x0, eps, self.norm)).clamp_(0, 1)
                else:
                    alpha = base
                    if self.schedule == "cosine":
                        alpha = base * (1 + math.cos(math.pi * k / self.steps))
                    stepped = x_cur + alpha * ascent_direction(grad, self.norm)
                    x_cur = (x0 + project(stepped - x0, eps, self.norm)).clamp_(0, 1)

        with torch.no_grad():
            pending = ~done[live]
            if not bool(pending.any()):
                return
            x_cur, y, live = x_cur[pending], y[pending], live[pending]
            t = t[pending] if t is not None else None
            if self.restarts == 1:
                out[live] = x_cur  # the only run: its final iterate, no extra forward pass
                return
            # Several restarts: score the final iterate to keep the per-sample worst case.
            reached, dist = self._goal(classifier(x_cur), y, t)
            better = reached | (dist < best[live])
            out[live[better]] = x_cur[better]
            best[live[better]] = torch.where(reached[better], -math.inf, dist[better])
            done[live[reached]] = True

    @staticmethod
    def _apgd_bookkeeping(
        k: int,
        x_cur: torch.Tensor,
        grad: torch.Tensor,
        loss: torch.Tensor,
        step: torch.Tensor,
        x_best: torch.Tensor,
        grad_best: torch.Tensor,
        loss_best: torch.Tensor,
        loss_prev: torch.Tensor,
        loss_best_checked: torch.Tensor,
        halved_last: torch.Tensor,
        rises: torch.Tensor,
        checkpoints: _Checkpoints,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Best-point tracking and checkpoint decisions of APGD (tensors updated in place)."""
        improved = loss > loss_best
        x_best[improved] = x_cur[improved]
        grad_best[improved] = grad[improved]
        loss_best[improved] = loss[improved]
        if k > 0:
            rises += (loss > loss_prev).float()
        length = checkpoints.tick()
        if length:
            oscillating = rises <= _RHO * length
            stalled = ~halved_last & (loss_best_checked >= loss_best)
            halve = oscillating | stalled
            halved_last.copy_(halve)
            loss_best_checked.copy_(loss_best)
            rises.zero_()
            if bool(halve.any()):
                step[halve] /= 2
                x_cur = torch.where(_bcast(halve, x_cur), x_best, x_cur)
                grad = torch.where(_bcast(halve, grad), grad_best, grad)
        return x_cur, grad
