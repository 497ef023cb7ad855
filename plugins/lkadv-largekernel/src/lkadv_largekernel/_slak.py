"""SLaK ("More ConvNets in the 2020s: Scaling up Kernels Beyond 51x51 using Sparsity", Liu et al., ICLR 2023).

A ConvNeXt macro design (4x4 patchify stem, LayerNorm + 2x2 downsampling,
inverted-bottleneck blocks with layer scale) whose 7x7 depthwise kernel is
replaced by a decomposed large kernel: a ``K x k`` and a ``k x K`` depthwise
conv (``LoRA1``, ``LoRA2``) plus a ``k x k`` one (``small_conv``), each with
BatchNorm, summed. Widths are the ConvNeXt widths times 1.3. Training used
dynamic sparsity; the released weights are dense tensors with zeros, so no
masks are needed at inference. :meth:`SLaK.reparameterize` sums the three
branches into one ``K x K`` kernel, ``lkb_reparam``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lkadv.models import pad_kernel_to
from lkadv_largekernel._layers import (
    ConvBN,
    DropPath,
    LayerNorm2d,
    StagedNet,
    biased_conv_like,
)

__all__ = ["DecomposedLargeKernelConv", "SLaK"]


class DecomposedLargeKernelConv(nn.Module):
    """``K x k`` + ``k x K`` + ``k x k`` depthwise conv+BN branches, summed.

    Args:
        channels: Channels (one group each).
        kernel: Long side ``K``.
        small_kernel: Short side ``k`` and size of the square small kernel (odd, < ``K``).
    """

    def __init__(self, channels: int, kernel: int, small_kernel: int) -> None:
        super().__init__()
        if not (small_kernel < kernel and small_kernel % 2 == 1 and kernel % 2 == 1):
            raise ValueError(f"kernels must be odd with small ({small_kernel}) < large ({kernel})")
        self.kernel = kernel
        self.LoRA1: ConvBN | None = ConvBN(channels, channels, (kernel, small_kernel), groups=channels)
        self.LoRA2: ConvBN | None = ConvBN(channels, channels, (small_kernel, kernel), groups=channels)
        self.small_conv: ConvBN | None = ConvBN(channels, channels, small_kernel, groups=channels)
        self.lkb_reparam: nn.Conv2d | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.lkb_reparam is not None:
            return self.lkb_reparam(x)
        out = torch.zeros((), device=x.device, dtype=x.dtype)
        for branch in (self.LoRA1, self.LoRA2, self.small_conv):
            assert branch is not None
            out = out + branch(x)
        return out

    def merged_kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The single ``K x K`` kernel and bias equal to the three branches in eval mode."""
        if self.lkb_reparam is not None:
            assert self.lkb_reparam.bias is not None
            return self.lkb_reparam.weight.detach(), self.lkb_reparam.bias.detach()
        size = (self.kernel, self.kernel)
        weight = torch.zeros(())
        bias = torch.zeros(())
        for branch in (self.LoRA1, self.LoRA2, self.small_conv):
            assert branch is not None
            w, b = branch.fused()
            weight, bias = weight + pad_kernel_to(w, size), bias + b
        return weight, bias

    def reparameterize(self) -> None:
        """Replace the three branches by ``lkb_reparam`` (in place, idempotent).

        The merged ``K x K`` kernel costs ``K^2`` multiply-adds per output instead
        of ``2Kk + k^2``, yet one convolution (and no BatchNorm) instead of three
        can still be faster: SLaK-T ran 1.5x faster merged on a 2-thread CPU
        (``bench/largekernel_reparam_speed.py --arch slak_tiny``). Analyses of the
        effective kernel need the merged form either way.
        """
        if self.lkb_reparam is not None:
            return
        assert self.LoRA1 is not None
        weight, bias = self.merged_kernel()
        self.lkb_reparam = biased_conv_like(self.LoRA1.conv, weight, bias)
        self.LoRA1 = self.LoRA2 = self.small_conv = None


class SLaKBlock(nn.Module):
    """Decomposed large kernel, LayerNorm, Linear-GELU-Linear, layer scale, residual.

    Args:
        dim: Block width.
        kernel: Long side of the decomposed kernel.
        small_kernel: Short side.
        drop_path: Stochastic depth rate.
        layer_scale_init_value: Initial value of ``gamma``.
    """

    def __init__(
        self, dim: int, kernel: int, small_kernel: int, drop_path: float, layer_scale_init_value: float
    ) -> None:
        super().__init__()
        self.large_kernel = DecomposedLargeKernelConv(dim, kernel, small_kernel)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale_init_value))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.large_kernel(x).permute(0, 2, 3, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + self.drop_path(y.permute(0, 3, 1, 2))


class SLaK(StagedNet):
    """SLaK for image classification.

    Args:
        depths: Blocks per stage.
        dims: ConvNeXt widths per stage, before ``width_factor``.
        kernel_sizes: Long kernel side per stage (``(51, 49, 47, 13)`` in the paper).
        small_kernel: Short side of the decomposition and small kernel (5).
        width_factor: Width multiplier (1.3); widths are ``int(dim * width_factor)``.
        in_chans: Input channels.
        num_classes: Number of logits.
        drop_path_rate: Largest stochastic depth rate.
        layer_scale_init_value: Initial layer-scale value.
    """

    REPARAM_TYPE = DecomposedLargeKernelConv

    def __init__(
        self,
        depths: Sequence[int] = (3, 3, 9, 3),
        dims: Sequence[int] = (96, 192, 384, 768),
        kernel_sizes: Sequence[int] = (51, 49, 47, 13),
        small_kernel: int = 5,
        width_factor: float = 1.3,
        in_chans: int = 3,
        num_classes: int = 1000,
        drop_path_rate: float = 0.0,
        layer_scale_init_value: float = 1e-6,
    ) -> None:
        super().__init__()
        if not len(depths) == len(dims) == len(kernel_sizes) == 4:
            raise ValueError("depths, dims and kernel_sizes need four entries")
        widths = [int(d * width_factor) for d in dims]
        self.build_trunk(
            [nn.Sequential(nn.Conv2d(in_chans, widths[0], 4, 4), LayerNorm2d(widths[0]))]
            + [nn.Sequential(LayerNorm2d(widths[i]), nn.Conv2d(widths[i], widths[i + 1], 2, 2)) for i in range(3)],
            depths,
            lambda i, _, rate: SLaKBlock(widths[i], kernel_sizes[i], small_kernel, rate, layer_scale_init_value),
            (drop_path_rate, widths[-1], num_classes),
        )

    def to_official_deploy(self) -> None:
        """Convert in place to the layout of deploy checkpoints (idempotent).

        SLaK's only BatchNorms are those of the kernel branches, so its deploy form, a single
        ``large_kernel.lkb_reparam`` per block, is the fully merged one.
        """
        self.reparameterize()
