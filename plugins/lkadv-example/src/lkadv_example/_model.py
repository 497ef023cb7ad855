"""The example network: a small CNN whose middle block can be re-parameterized.

The block has a 7x7 depthwise convolution and a 3x3 one side by side, each with
its BatchNorm, summed (RepLKNet's large kernel with a small-kernel branch). It
is trained and shipped *unmerged*; lkadv calls ``reparameterize()`` before any
threat and checks that the logits did not change.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torch import nn

from lkadv.errors import WeightsError
from lkadv.models import fuse_conv_bn, load_into, pad_kernel_to
from lkadv_example._weights import WEIGHTS_FILE, WEIGHTS_SHA256

__all__ = ["RepBlock", "RepCNN", "load_pretrained", "weights_path"]


class RepBlock(nn.Module):
    """Depthwise ``large`` x ``large`` and ``small`` x ``small`` convolutions with BatchNorm, summed.

    Args:
        channels: Input and output channels.
        large: The large kernel size.
        small: The small kernel size (odd, at most ``large``).
    """

    def __init__(self, channels: int, large: int = 7, small: int = 3) -> None:
        super().__init__()
        self.large = nn.Conv2d(channels, channels, large, padding=large // 2, groups=channels, bias=False)
        self.large_bn = nn.BatchNorm2d(channels)
        self.small = nn.Conv2d(channels, channels, small, padding=small // 2, groups=channels, bias=False)
        self.small_bn = nn.BatchNorm2d(channels)
        self.merged: nn.Conv2d | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Sum of both branches (or the merged convolution)."""
        if self.merged is not None:
            return self.merged(x)
        return self.large_bn(self.large(x)) + self.small_bn(self.small(x))

    @torch.no_grad()
    def reparameterize(self) -> None:
        """Fold both BatchNorms in and the 3x3 kernel into the 7x7 one (eval-mode maths)."""
        if self.merged is not None:
            return
        w_large, b_large = fuse_conv_bn(self.large, self.large_bn)
        w_small, b_small = fuse_conv_bn(self.small, self.small_bn)
        k = self.large.kernel_size[0]
        merged = nn.Conv2d(self.large.in_channels, self.large.out_channels, k, padding=k // 2, groups=self.large.groups)
        merged.weight.copy_(w_large + pad_kernel_to(w_small, (k, k)))
        assert merged.bias is not None
        merged.bias.copy_(b_large + b_small)
        self.merged = merged.to(w_large.device)
        del self.large, self.large_bn, self.small, self.small_bn


class RepCNN(nn.Module):
    """Stem 3x3 -> pool -> RepBlock(7x7 + 3x3) -> 3x3 -> pool -> global pool -> linear.

    Args:
        num_classes: Logits.
        width: Channels of the first stage (the second has twice as many).
    """

    def __init__(self, num_classes: int = 10, width: int = 16) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.block = RepBlock(width)
        self.conv = nn.Sequential(
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU()
        )
        self.head = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of images normalized with the spec's mean/std (lkadv does that)."""
        x = nn.functional.max_pool2d(self.stem(x), 2)
        x = torch.relu(self.block(x))
        x = nn.functional.max_pool2d(self.conv(x), 2)
        return self.head(x.mean((2, 3)))


def weights_path() -> Path:
    """Where the shipped weights are."""
    return Path(str(resources.files("lkadv_example") / WEIGHTS_FILE))


def load_pretrained() -> RepCNN:
    """The trained, unmerged network (the ModelSpec factory).

    Raises:
        WeightsError: If the shipped file is missing or not the one trained.
    """
    import hashlib

    path = weights_path()
    if not path.is_file():
        raise WeightsError(f"{path} is missing; reinstall lkadv-example or run `python -m lkadv_example.train`")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise WeightsError(f"{path} has sha256 {digest}, expected {WEIGHTS_SHA256}; reinstall lkadv-example")
    model = load_into(RepCNN(), path)
    assert isinstance(model, RepCNN)
    return model
