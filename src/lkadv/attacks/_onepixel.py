"""The one-pixel attack (Su, Vargas & Sakurai 2019): differential evolution under an L0 budget.

The threat is ``l0`` with ``eps`` = the number of pixels that may change (a
pixel is a spatial position; all its channels change together, to any value
in [0, 1]). Each candidate is ``eps`` tuples ``(row, col, value per channel)``;
the population evolves by DE/rand/1 without crossover (mutation factor 0.5),
and a candidate replaces its parent when it lowers the true class's softmax
probability. A sample stops as soon as one candidate is misclassified.

This is a batched, black-box (logits only) implementation: every sample's
whole population is scored in one forward pass, and samples that are broken
leave the batch. torchattacks' ``OnePixel`` runs scipy's optimizer per image,
which is far slower (and is available through the lkadv-torchattacks plugin).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from lkadv.attacks._params import ONEPIXEL_PARAMS, bind
from lkadv.engine import attack_view
from lkadv.specs import Param

__all__ = ["OnePixel"]

_F = 0.5


class OnePixel:
    """Untargeted one-pixel (few-pixel) attack.

    Args:
        norm: Must be ``"l0"``.
        **params: Any parameter of :data:`PARAMS`: population size, generations of
            differential evolution, images per forward pass when scoring populations.
    """

    PARAMS: ClassVar[Mapping[str, Param]] = ONEPIXEL_PARAMS

    def __init__(self, *, norm: str = "l0", **params: Any) -> None:
        if norm != "l0":
            raise ValueError(f"the one-pixel attack is an l0 attack, not {norm!r}")
        p = bind("onepixel", self.PARAMS, params)  # a population of at least 4: differential evolution needs 3 others
        self.popsize: int = p["popsize"]
        self.iterations: int = p["iterations"]
        self.chunk: int = p["chunk"]

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` changing at most ``int(eps)`` pixels."""
        out = x.detach().clone()
        k = int(eps)
        if k <= 0 or len(x) == 0:
            return out
        with torch.no_grad(), attack_view(classifier) as model:  # BatchNorm folded: cheaper forward passes
            self._attack(model, x.detach(), y, k, generator, out)
        return out

    def _uniform(self, shape: tuple[int, ...], generator: torch.Generator, device: torch.device) -> torch.Tensor:
        return torch.rand(shape, generator=generator, device=generator.device).to(device)

    def _partners(self, m: int, p: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        """Indices ``(m, p, 3)``: three distinct population members other than each candidate."""

        def draw(high: int) -> torch.Tensor:
            return torch.randint(0, high, (m, p), generator=generator, device=generator.device).to(device)

        a = draw(p - 1)
        b = draw(p - 2)
        b = b + (b >= a).long()
        c = draw(p - 3)
        low, high = torch.minimum(a, b), torch.maximum(a, b)
        c = c + (c >= low).long()
        c = c + (c >= high).long()
        own = torch.arange(p, device=device)[None, :, None]
        # Offsets 0..p-2 skip the candidate itself.
        return (own + 1 + torch.stack([a, b, c], 2)) % p

    def _render(self, x: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Images ``(n * P, C, H, W)`` of candidates ``(n, P, k, 2 + C)`` applied to ``x`` ``(n, C, H, W)``."""
        n, p, k, _ = cand.shape
        c, h, w = x.shape[1:]
        rows = cand[..., 0].round().long().clamp_(0, h - 1)
        cols = cand[..., 1].round().long().clamp_(0, w - 1)
        flat = (rows * w + cols).reshape(n * p, 1, k).expand(n * p, c, k)
        values = cand[..., 2:].clamp(0, 1).reshape(n * p, k, c).transpose(1, 2)
        images = x[:, None].expand(n, p, c, h, w).reshape(n * p, c, h * w).clone()
        images.scatter_(2, flat, values.to(images.dtype))
        return images.reshape(n * p, c, h, w)

    def _fitness(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, cand: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(true-class probability, misclassified)`` per candidate, shape ``(n, P)``."""
        n, p = cand.shape[:2]
        per = max(1, self.chunk // p)
        probs, wrong = [], []
        for i in range(0, n, per):
            images = self._render(x[i : i + per], cand[i : i + per])
            logits = classifier(images).float()
            yy = y[i : i + per].repeat_interleave(p)
            probs.append(logits.softmax(1).gather(1, yy[:, None]).squeeze(1))
            wrong.append(logits.argmax(1) != yy)
        return torch.cat(probs).reshape(n, p), torch.cat(wrong).reshape(n, p)

    def _attack(
        self,
        classifier: nn.Module,
        x: torch.Tensor,
        y: torch.Tensor,
        k: int,
        generator: torch.Generator,
        out: torch.Tensor,
    ) -> None:
        n, c, h, w = x.shape
        p = self.popsize
        dev = x.device
        lo = torch.zeros(2 + c, device=dev)
        hi = torch.tensor([h - 1, w - 1] + [1.0] * c, device=dev)
        u = self._uniform((n, p, k, 2 + c), generator, dev)
        # Su et al.: positions uniform; values drawn around mid-grey (here uniform in [0, 1]).
        pop = lo + u * (hi - lo)
        live = torch.arange(n, device=dev)
        fit, wrong = self._fitness(classifier, x, y, pop)
        for gen in range(self.iterations + 1):
            hit = wrong.any(1)
            if bool(hit.any()):
                first = wrong[hit].float().argmax(1)
                winners = pop[hit].gather(1, first[:, None, None, None].expand(-1, 1, k, 2 + c)).squeeze(1)
                out[live[hit]] = self._render(x[hit], winners[:, None]).reshape(-1, c, h, w)
                keep = ~hit
                if not bool(keep.any()):
                    return
                x, y, pop, fit, live = x[keep], y[keep], pop[keep], fit[keep], live[keep]
            if gen == self.iterations:
                return
            m = len(live)
            # DE/rand/1: three distinct partners per candidate, none of them the candidate itself.
            r = self._partners(m, p, generator, dev)
            a, b, d = (pop.gather(1, r[..., j, None, None].expand(-1, -1, k, 2 + c)) for j in range(3))
            trial = torch.minimum(torch.maximum(a + _F * (b - d), lo), hi)
            trial_fit, trial_wrong = self._fitness(classifier, x, y, trial)
            better = (trial_fit < fit) | trial_wrong
            pop = torch.where(better[..., None, None], trial, pop)
            fit = torch.where(better, trial_fit, fit)
            wrong = trial_wrong & better
