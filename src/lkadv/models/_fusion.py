"""Arithmetic of structural re-parameterization: folding BatchNorm into convolutions.

These helpers are shared by the embedded zoo and by third-party large-kernel
plugins, so that every family merges its branches with the same, tested maths.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["bn_affine", "fuse_conv_bn", "pad_kernel_to"]


def bn_affine(bn: nn.modules.batchnorm._BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """``(scale, shift)`` with ``bn(x) == x * scale + shift`` per channel, in eval mode.

    Raises:
        ValueError: If the BatchNorm keeps no running statistics.
    """
    if bn.running_var is None or bn.running_mean is None:
        raise ValueError("cannot fold a BatchNorm without running statistics")
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    shift = -bn.running_mean * scale
    if bn.bias is not None:
        shift = shift + bn.bias
    return scale.detach(), shift.detach()


def fuse_conv_bn(
    conv: nn.modules.conv._ConvNd, bn: nn.modules.batchnorm._BatchNorm
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold an eval-mode BatchNorm that follows a convolution into one kernel and bias.

    Args:
        conv: The convolution (1-, 2- or 3-d). Its own bias, if any, is folded in too.
        bn: The BatchNorm applied to the convolution's output, with running statistics.

    Returns:
        ``(weight, bias)`` such that the convolution with them equals ``bn(conv(x))``
        in eval mode.

    Raises:
        ValueError: If the BatchNorm keeps no running statistics.
    """
    scale, shift = bn_affine(bn)
    weight = conv.weight.detach() * scale.reshape(-1, *([1] * (conv.weight.ndim - 1)))
    bias = shift if conv.bias is None else conv.bias.detach() * scale + shift
    return weight, bias


def pad_kernel_to(weight: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Zero-pad a ``[O, I, kh, kw]`` kernel symmetrically to ``size`` (both odd growths).

    Args:
        weight: A convolution kernel whose spatial size is at most ``size``.
        size: Target ``(height, width)``; the difference to the kernel must be even.

    Returns:
        The centred, zero-padded kernel.

    Raises:
        ValueError: If the kernel is larger than ``size`` or cannot be centred.
    """
    kh, kw = weight.shape[-2:]
    th, tw = size
    dh, dw = th - kh, tw - kw
    if dh < 0 or dw < 0 or dh % 2 or dw % 2:
        raise ValueError(f"cannot centre a {kh}x{kw} kernel inside {th}x{tw}")
    return F.pad(weight, (dw // 2, dw // 2, dh // 2, dh // 2))
