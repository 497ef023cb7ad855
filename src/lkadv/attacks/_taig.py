"""TAIG: transferable adversarial attack based on integrated gradients (Huang & Kong, ICLR 2022).

Each iteration takes a sign step of ``step_size`` against the integrated
gradient (IG) of the true-class logit, then projects into the L-inf ball and
[0, 1], as BIM does. The IG of ``f`` along a path from a baseline ``b`` to
``x`` is ``sum over segments of (end - start) * mean of grad f over the
segment's points``; the Riemann rule takes ``k + 1`` equally spaced points from
start to end inclusive, as the authors' released code does. Three paths:

* ``s`` (TAIG-S): the straight line from the black image to ``x``.
* ``r`` (TAIG-R): a random piecewise-linear path whose turning points are
  ``(e / E) x + v_e``, ``v_e ~ U[-tau, tau]`` (e = 1..E-1), from black to ``x``;
  its IG is the sum of the segments' IGs, so completeness still holds.
* ``r-approx``: what the LKRobust study's script runs as TAIG-R: the straight
  line's points each moved by ``U(-eps, eps)`` noise, with the difference of
  the moved end points as the path length.

Images are independent of each other: a path point of the whole batch goes
through the model in one pass (the released code loops image by image).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from lkadv.attacks._params import TAIG_PARAMS, bind
from lkadv.engine import attack_view, input_gradient
from lkadv.errors import ConfigError
from lkadv.specs import Param

__all__ = ["TAIG", "integrated_gradient", "path_points", "unreachable_eps", "unreachable_message"]


def unreachable_eps(eps: float, iterations: int, step_size: float) -> bool:
    """Whether ``iterations`` sign steps of ``step_size`` cannot reach ``eps`` (the ball is not filled)."""
    return iterations * step_size < eps * (1 - 1e-6)


def _uniform(shape: torch.Size, bound: float, like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    noise = torch.rand(shape, generator=generator, device=like.device, dtype=like.dtype)
    return noise.mul_(2 * bound).sub_(bound)


def path_points(
    x: torch.Tensor,
    *,
    variant: str,
    path_steps: int,
    turning_points: int,
    tau: float,
    generator: torch.Generator,
) -> list[list[torch.Tensor]]:
    """The path of each variant as segments, each a list of its Riemann points (ends included).

    Args:
        x: Batch, NCHW in [0, 1]; the baseline is the black image.
        variant: ``"s"``, ``"r"`` or ``"r-approx"``.
        path_steps: Riemann steps of the straight line (``s``, ``r-approx``) or
            of the whole piecewise path (``r``: ``path_steps // E`` per segment, at least 1).
        turning_points: Segments ``E`` of the ``r`` path.
        tau: Half-width of the uniform noise (turning points for ``r``, every point for ``r-approx``).
        generator: Source of the random draws.

    Returns:
        ``segments[j][k]``: point ``k`` of segment ``j``; a segment's IG weight
        is its last point minus its first.
    """
    if variant == "r":
        ends = [torch.zeros_like(x)]
        for e in range(1, turning_points):
            ends.append(x * (e / turning_points) + _uniform(x.shape, tau, x, generator))
        ends.append(x)
        m = max(1, path_steps // turning_points)
        return [[a + (b - a) * (k / m) for k in range(m + 1)] for a, b in itertools.pairwise(ends)]
    points = [x * (i / path_steps) for i in range(path_steps + 1)]
    if variant == "r-approx":
        points = [p + _uniform(x.shape, tau, x, generator) for p in points]
    return [points]


def integrated_gradient(
    model: nn.Module, segments: list[list[torch.Tensor]], y: torch.Tensor
) -> tuple[torch.Tensor, int]:
    """IG of the true-class logit along a piecewise path; points shared by two segments are evaluated once.

    Args:
        model: The model (logits out).
        segments: From :func:`path_points`.
        y: True labels.

    Returns:
        ``(ig, passes)``: the IG (``x``'s shape) and the forward+backward passes it took.
    """

    def true_logit(logits: torch.Tensor, rows: slice) -> torch.Tensor:
        return logits.float().gather(1, y[rows, None]).squeeze(1)

    ig = torch.zeros_like(segments[0][0])
    passes = 0
    carried: torch.Tensor | None = None
    for segment in segments:
        total = torch.zeros_like(ig)
        for k, point in enumerate(segment):
            if k == 0 and carried is not None:
                grad = carried  # this segment starts where the last one ended
            else:
                grad = input_gradient(model, point, true_logit)[2]
                passes += 1
            total += grad
        carried = grad
        ig += (segment[-1] - segment[0]) * total / len(segment)
    return ig, passes


class TAIG:
    """TAIG-S, TAIG-R or the study's approximate TAIG-R, untargeted, L-inf.

    Args:
        norm: Only ``"linf"``.
        **params: Any parameter of :data:`PARAMS`: the path variant (``s``, ``r``,
            ``r-approx``), sign steps, Riemann steps of the integral, the step in
            pixel units (the authors' 1/255), segments of the ``r`` path, and the
            noise half-width of ``r``/``r-approx`` (None: eps, as the study's script).
    """

    PARAMS: ClassVar[Mapping[str, Param]] = TAIG_PARAMS

    def __init__(self, *, norm: str = "linf", **params: Any) -> None:
        if norm != "linf":
            raise ConfigError(f"TAIG is an L-inf attack; norm {norm!r} is not supported")
        p = bind("taig", self.PARAMS, params)
        self.variant: str = p["variant"]
        self.iterations: int = p["iterations"]
        self.path_steps: int = p["path_steps"]
        self.step_size: float = p["step_size"]
        self.turning_points: int = p["turning_points"]
        self.tau: float | None = p["tau"]
        self.passes = 0  # forward+backward passes so far (crafting cost, counted by tests and reports)
        self._warned = False

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps`` (L-inf)."""
        if eps <= 0 or len(x) == 0:
            return x.detach().clone()
        if not self._warned and unreachable_eps(eps, self.iterations, self.step_size):
            self._warned = True
            warnings.warn(unreachable_message(eps, self.iterations, self.step_size), stacklevel=2)
        tau = eps if self.tau is None else self.tau
        x0 = x.detach()
        lo, hi = (x0 - eps).clamp(min=0), (x0 + eps).clamp(max=1)
        adv = x0.clone()
        with attack_view(classifier) as model:
            for _ in range(self.iterations):
                segments = path_points(
                    adv,
                    variant=self.variant,
                    path_steps=self.path_steps,
                    turning_points=self.turning_points,
                    tau=tau,
                    generator=generator,
                )
                ig, passes = integrated_gradient(model, segments, y)
                self.passes += passes
                adv = torch.minimum(torch.maximum(adv - self.step_size * ig.sign(), lo), hi)
        return adv


def unreachable_message(eps: float, iterations: int, step_size: float) -> str:
    """The warning for an eps that ``iterations`` steps of ``step_size`` cannot reach."""
    return (
        f"TAIG: {iterations} steps of {step_size * 255:.4g}/255 reach at most {iterations * step_size * 255:.4g}/255, "
        f"less than eps {eps * 255:.4g}/255; raise taig.iterations or taig.step_size to use the whole ball"
    )
