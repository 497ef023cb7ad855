"""The example attack: the best of several random points of the eps ball.

It needs no gradient, so it is a sanity baseline: an attack that does worse
than random noise is broken.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["RandomNoise"]


class RandomNoise:
    """Try ``draws`` random perturbations on the sphere of radius eps; keep the worst for the model.

    L-inf draws are random corners of the cube (every pixel moved by +-eps); L2
    draws are Gaussian directions scaled to eps. Clipping to [0, 1] only moves
    pixels back towards the clean image, so the result stays inside the ball.

    Args:
        norm: ``"linf"`` or ``"l2"``.
        draws: Random points tried per sample.
    """

    def __init__(self, norm: str = "linf", draws: int = 8) -> None:
        if norm not in ("linf", "l2"):
            raise ValueError(f"example-random-noise supports linf and l2, not {norm!r}")
        self.norm = norm
        self.draws = draws

    @torch.no_grad()
    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x``; every random number comes from ``generator``."""
        best = x.clone()
        best_loss = F.cross_entropy(classifier(x), y, reduction="none")
        for _ in range(self.draws):
            noise = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device)
            if self.norm == "linf":
                delta = eps * noise.sign()
            else:
                delta = eps * noise / noise.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, 1, 1, 1)
            candidate = (x + delta).clamp(0.0, 1.0)
            loss = F.cross_entropy(classifier(candidate), y, reduction="none")
            better = loss > best_loss
            best[better] = candidate[better]
            best_loss = torch.where(better, loss, best_loss)
        return best
