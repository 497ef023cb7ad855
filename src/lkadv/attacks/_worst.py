"""Worst-of aggregation: several attacks, each on the samples the earlier ones could not break.

This is AutoAttack's aggregation, for any list of attacks: a sample counts as
broken as soon as one member breaks it, and the member outputs of the others
are kept by their smallest margin. Each member starts from a fresh generator
seeded like the one given, so a member's result does not depend on what ran
before it (and a resumed cell reproduces an uninterrupted one stage by stage).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

import torch
from torch import nn

from lkadv.attacks._losses import margin
from lkadv.attacks._params import WORST_OF_PARAMS
from lkadv.specs import AttackFn, Param

__all__ = ["WorstOf", "run_sequential", "stage_generator"]


def stage_generator(generator: torch.Generator) -> torch.Generator:
    """A fresh generator on ``generator``'s device, seeded with its initial seed."""
    return torch.Generator(device=generator.device).manual_seed(generator.initial_seed())


@torch.no_grad()
def _score(classifier: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    logits = classifier(x)
    return logits.argmax(1) == y, margin(logits, y)


def run_sequential(
    stages: Sequence[tuple[str, AttackFn]],
    classifier: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    generator: torch.Generator,
) -> torch.Tensor:
    """Run ``stages`` one after another on the samples still correctly classified.

    Returns:
        Per sample: the first stage output that is misclassified, else the stage
        output with the smallest margin (``x`` itself if no stage ran on it).
    """
    out = x.detach().clone()
    if len(x) == 0:
        return out
    alive, best = _score(classifier, x, y)
    best = torch.where(alive, torch.full_like(best, math.inf), best)
    for _, fn in stages:
        idx = torch.nonzero(alive).squeeze(1)
        if len(idx) == 0:
            break
        x_adv = fn(classifier, x[idx], y[idx], eps, stage_generator(generator)).detach()
        correct, m = _score(classifier, x_adv, y[idx])
        better = ~correct | (m < best[idx])
        out[idx[better]] = x_adv[better]
        best[idx[better]] = m[better]
        alive[idx[~correct]] = False
    return out


class WorstOf:
    """Per-sample worst case over several attacks (a composite attack).

    Args:
        norm: The threat's norm (every member runs under it).
        members: ``(name, attack)`` pairs, run in order (from the ``members`` text
            ``pgd:loss=dlr+fgsm``, :func:`lkadv.attacks.build_attack` builds them).
        ensemble: The members' identity recorded by the planner (not needed to run).
    """

    PARAMS: ClassVar[Mapping[str, Param]] = WORST_OF_PARAMS

    def __init__(
        self, *, norm: str = "linf", members: Sequence[tuple[str, AttackFn]] = (), ensemble: str | None = None
    ) -> None:
        if isinstance(members, str) or not members:
            raise ValueError("WorstOf needs at least one built member attack (see lkadv.attacks.build_attack)")
        self.norm = norm
        self.members = list(members)

    @property
    def stages(self) -> list[tuple[str, AttackFn]]:
        """The members, for the executor's stage-by-stage (resumable) run."""
        return list(self.members)

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``: the worst case over the members."""
        return run_sequential(self.members, classifier, x, y, eps, generator)
