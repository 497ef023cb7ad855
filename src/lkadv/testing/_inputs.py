"""Tiny, deterministic inputs: structured images and a small fixed classifier."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.models import Classifier

__all__ = ["TinyNet", "tiny_classifier", "tiny_images"]


def tiny_images(shape: tuple[int, int, int] = (3, 16, 16), n: int = 4, seed: int = 0) -> torch.Tensor:
    """Images that look a little like photographs, reproducibly.

    Each image is a smooth random field (what blurs and noises act on) plus a
    bright and a dark rectangle (edges), with some pixels saturated at exactly
    0 and 1 (where clipping bugs show).

    Args:
        shape: ``(channels, height, width)``.
        n: Batch size.
        seed: Seed of the torch generator.

    Returns:
        Float32 ``[n, C, H, W]`` in [0, 1].
    """
    c, h, w = shape
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand((n, c, max(2, h // 4), max(2, w // 4)), generator=g)
    x = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    x = 0.15 + 0.7 * x + 0.05 * torch.randn((n, c, h, w), generator=g)
    for i in range(n):
        r0, c0 = (
            int(torch.randint(0, max(1, h // 2), (1,), generator=g)),
            int(torch.randint(0, max(1, w // 2), (1,), generator=g)),
        )
        x[i, :, r0 : r0 + max(1, h // 4), c0 : c0 + max(1, w // 4)] = 1.0
        x[i, :, h - 1 - r0 - max(1, h // 5) : h - 1 - r0, c0 : c0 + max(1, w // 3)] = 0.0
    return x.clamp(0.0, 1.0).contiguous()


class TinyNet(nn.Module):
    """A small CNN with BatchNorm: fixed random weights, any input size.

    Args:
        channels: Input channels.
        num_classes: Logits.
        seed: Seed of the weights.
    """

    def __init__(self, channels: int = 3, num_classes: int = 10, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.conv = nn.Conv2d(channels, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 16, num_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            assert self.bn.running_mean is not None
            assert self.bn.running_var is not None
            self.bn.running_mean.copy_(torch.randn(8, generator=g) * 0.1)
            self.bn.running_var.copy_(torch.rand(8, generator=g) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of normalized images."""
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(F.adaptive_avg_pool2d(x, 4).flatten(1))


def tiny_classifier(channels: int = 3, num_classes: int = 10, seed: int = 0) -> Classifier:
    """A :class:`~lkadv.models.Classifier` around :class:`TinyNet`, for attack checks.

    Args:
        channels: Input channels.
        num_classes: Logits.
        seed: Seed of the weights.

    Returns:
        The classifier (mean 0.5, std 0.25 per channel).
    """
    net = TinyNet(channels, num_classes, seed)
    return Classifier(net, mean=(0.5,) * channels, std=(0.25,) * channels, num_classes=num_classes, name="kit-tiny")
