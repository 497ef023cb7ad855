"""RepLKNet ("Scaling Up Your Kernels to 31x31", Ding et al., CVPR 2022).

Four stages of alternating RepLK blocks (BN, 1x1 conv, a large depthwise kernel
with a parallel small one, 1x1 conv, residual) and ConvFFN blocks, a
four-layer stem and two-layer transitions, as laid out in the paper and its
published checkpoints. Training-time keys: ``large_kernel.lkb_origin`` and
``large_kernel.small_conv`` (each ``conv`` + ``bn``); after
:meth:`RepLKNet.reparameterize` a single ``large_kernel.lkb_reparam`` convolution
with bias replaces them, and every remaining conv+BN pair is folded.
:meth:`RepLKNet.to_official_deploy` stops half-way, at the layout of the official
``structural_reparam()`` (large kernels merged, every other BatchNorm kept), so
that checkpoints saved in that form load.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.models import pad_kernel_to
from lkadv_largekernel._layers import ClassifierMixin, ConvBN, DropPath, biased_conv_like, drop_path_rates

__all__ = ["RepLKNet", "ReparamLargeKernelConv"]


class ReparamLargeKernelConv(nn.Module):
    """A depthwise ``K x K`` conv+BN with an optional parallel ``k x k`` conv+BN.

    Args:
        channels: Channels (one group each).
        kernel: Large kernel size ``K``.
        small_kernel: Small kernel size ``k`` (odd, at most ``K``), or None for no small branch.
    """

    def __init__(self, channels: int, kernel: int, small_kernel: int | None) -> None:
        super().__init__()
        if small_kernel is not None and not (small_kernel <= kernel and small_kernel % 2 == 1):
            raise ValueError(f"small kernel {small_kernel} must be odd and at most the large kernel {kernel}")
        self.kernel = kernel
        self.lkb_origin: ConvBN | None = ConvBN(channels, channels, kernel, groups=channels)
        self.small_conv: ConvBN | None = (
            ConvBN(channels, channels, small_kernel, groups=channels) if small_kernel is not None else None
        )
        self.lkb_reparam: nn.Conv2d | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.lkb_reparam is not None:
            return self.lkb_reparam(x)
        assert self.lkb_origin is not None
        out = self.lkb_origin(x)
        if self.small_conv is not None:
            out = out + self.small_conv(x)
        return out

    def merged_kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The single ``K x K`` kernel and bias equal to the branches in eval mode."""
        if self.lkb_reparam is not None:
            assert self.lkb_reparam.bias is not None
            return self.lkb_reparam.weight.detach(), self.lkb_reparam.bias.detach()
        assert self.lkb_origin is not None
        weight, bias = self.lkb_origin.fused()
        if self.small_conv is not None:
            w_small, b_small = self.small_conv.fused()
            weight = weight + pad_kernel_to(w_small, (self.kernel, self.kernel))
            bias = bias + b_small
        return weight, bias

    def reparameterize(self) -> None:
        """Replace the branches by ``lkb_reparam`` (in place, idempotent)."""
        if self.lkb_reparam is not None:
            return
        assert self.lkb_origin is not None
        weight, bias = self.merged_kernel()
        self.lkb_reparam = biased_conv_like(self.lkb_origin.conv, weight, bias)
        self.lkb_origin = None
        self.small_conv = None


def _fold_bn_into_pointwise(bn: nn.BatchNorm2d, unit: ConvBN) -> None:
    """Fold an eval-mode BN that *precedes* a 1x1, unpadded conv into that conv (exact).

    ``conv(a * x + b) = conv_{W * a}(x) + W @ b`` when the conv has no padding, so
    no border effect arises.
    """
    conv = unit.conv
    assert conv.kernel_size == (1, 1)
    assert conv.groups == 1
    assert bn.running_var is not None
    assert bn.running_mean is not None
    scale = bn.weight / (bn.running_var + bn.eps).sqrt()
    shift = bn.bias - bn.running_mean * scale
    weight = conv.weight * scale.view(1, -1, 1, 1)
    bias = conv.weight[:, :, 0, 0] @ shift + (conv.bias if conv.bias is not None else 0.0)
    unit.conv = biased_conv_like(conv, weight.detach(), bias.detach())


class RepLKBlock(nn.Module):
    """BN, 1x1 conv+BN+ReLU, large depthwise kernel, ReLU, 1x1 conv+BN, residual.

    Args:
        channels: Block width.
        dw_channels: Width of the depthwise part.
        kernel: Large kernel size.
        small_kernel: Parallel small kernel size, or None.
        drop_path: Stochastic depth rate.
    """

    def __init__(
        self, channels: int, dw_channels: int, kernel: int, small_kernel: int | None, drop_path: float
    ) -> None:
        super().__init__()
        self.pw1 = ConvBN(channels, dw_channels, 1, relu=True)
        self.pw2 = ConvBN(dw_channels, channels, 1)
        self.large_kernel = ReparamLargeKernelConv(dw_channels, kernel, small_kernel)
        self.lk_nonlinear = nn.ReLU()
        self.prelkb_bn: nn.Module = nn.BatchNorm2d(channels)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pw2(self.lk_nonlinear(self.large_kernel(self.pw1(self.prelkb_bn(x)))))
        return x + self.drop_path(out)

    def reparameterize(self) -> None:
        """Merge the large kernel's branches and fold every BatchNorm into a convolution."""
        self.large_kernel.reparameterize()
        for unit in (self.pw1, self.pw2):
            unit.fuse()
        if isinstance(self.prelkb_bn, nn.BatchNorm2d):
            _fold_bn_into_pointwise(self.prelkb_bn, self.pw1)
            self.prelkb_bn = nn.Identity()


class ConvFFN(nn.Module):
    """BN, 1x1 conv+BN, GELU, 1x1 conv+BN, residual.

    Args:
        channels: Block width.
        hidden: Hidden width.
        drop_path: Stochastic depth rate.
    """

    def __init__(self, channels: int, hidden: int, drop_path: float) -> None:
        super().__init__()
        self.preffn_bn: nn.Module = nn.BatchNorm2d(channels)
        self.pw1 = ConvBN(channels, hidden, 1)
        self.pw2 = ConvBN(hidden, channels, 1)
        self.nonlinear = nn.GELU()
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(self.pw2(self.nonlinear(self.pw1(self.preffn_bn(x)))))

    def reparameterize(self) -> None:
        """Fold every BatchNorm into a convolution."""
        for unit in (self.pw1, self.pw2):
            unit.fuse()
        if isinstance(self.preffn_bn, nn.BatchNorm2d):
            _fold_bn_into_pointwise(self.preffn_bn, self.pw1)
            self.preffn_bn = nn.Identity()


class RepLKNetStage(nn.Module):
    """``num_blocks`` pairs of (RepLK block, ConvFFN) in ``blocks``.

    Args:
        channels: Stage width.
        num_blocks: Number of pairs.
        kernel: Large kernel size of the stage.
        small_kernel: Parallel small kernel size, or None.
        drop_path: Per-pair stochastic depth rates.
        dw_ratio: Depthwise width over stage width.
        ffn_ratio: FFN hidden width over stage width.
    """

    def __init__(
        self,
        channels: int,
        num_blocks: int,
        kernel: int,
        small_kernel: int | None,
        drop_path: Sequence[float],
        dw_ratio: float,
        ffn_ratio: float,
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for i in range(num_blocks):
            blocks.append(RepLKBlock(channels, int(channels * dw_ratio), kernel, small_kernel, drop_path[i]))
            blocks.append(ConvFFN(channels, int(channels * ffn_ratio), drop_path[i]))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x


class RepLKNet(ClassifierMixin):
    """RepLKNet for image classification.

    Args:
        large_kernel_sizes: Large kernel size per stage (e.g. ``(31, 29, 27, 13)``).
        layers: Number of (RepLK, ConvFFN) pairs per stage.
        channels: Width per stage.
        small_kernel: Parallel small kernel (5 in the paper), or None (RepLKNet-XL).
        dw_ratio: Depthwise width over stage width (1.5 for XL).
        ffn_ratio: FFN hidden width over stage width.
        in_chans: Input channels.
        num_classes: Number of logits.
        drop_path_rate: Largest stochastic depth rate (linear over blocks).
    """

    def __init__(
        self,
        large_kernel_sizes: Sequence[int],
        layers: Sequence[int],
        channels: Sequence[int],
        small_kernel: int | None = 5,
        dw_ratio: float = 1.0,
        ffn_ratio: float = 4.0,
        in_chans: int = 3,
        num_classes: int = 1000,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        if not len(large_kernel_sizes) == len(layers) == len(channels):
            raise ValueError("large_kernel_sizes, layers and channels need one entry per stage")
        base = channels[0]
        self.stem = nn.ModuleList(
            [
                ConvBN(in_chans, base, 3, stride=2, relu=True),
                ConvBN(base, base, 3, groups=base, relu=True),
                ConvBN(base, base, 1, relu=True),
                ConvBN(base, base, 3, stride=2, groups=base, relu=True),
            ]
        )
        rates = drop_path_rates(sum(layers), drop_path_rate)
        self.stages = nn.ModuleList()
        self.transitions = nn.ModuleList()
        start = 0
        for i, (kernel, depth, width) in enumerate(zip(large_kernel_sizes, layers, channels, strict=True)):
            self.stages.append(
                RepLKNetStage(width, depth, kernel, small_kernel, rates[start : start + depth], dw_ratio, ffn_ratio)
            )
            start += depth
            if i < len(layers) - 1:
                nxt = channels[i + 1]
                self.transitions.append(
                    nn.Sequential(
                        ConvBN(width, nxt, 1, relu=True), ConvBN(nxt, nxt, 3, stride=2, groups=nxt, relu=True)
                    )
                )
        self.norm: nn.Module = nn.BatchNorm2d(channels[-1])
        self.num_features = channels[-1]
        self.num_classes = num_classes
        self.head = nn.Linear(channels[-1], num_classes)

    def forward_feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's feature map, before the final norm."""
        for layer in self.stem:
            x = layer(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i < len(self.transitions):
                x = self.transitions[i](x)
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Normalized, globally pooled features."""
        return F.adaptive_avg_pool2d(self.norm(self.forward_feature_map(x)), 1).flatten(1)

    def to_official_deploy(self) -> None:
        """Convert in place to the layout of the official deploy checkpoints (idempotent).

        The official ``structural_reparam()`` replaces only each large kernel and its
        parallel small kernel by ``large_kernel.lkb_reparam`` and keeps every other
        BatchNorm, so a file saved after it fits this form, not the fully merged one.
        :meth:`reparameterize` folds the remaining BatchNorms afterwards.
        """
        # A list first: merging edits the children of the modules being walked.
        for module in list(self.modules()):
            if isinstance(module, ReparamLargeKernelConv):
                module.reparameterize()

    def reparameterize(self) -> None:
        """Structural re-parameterization for inference (in place, idempotent).

        Merges each large kernel with its small kernel into ``lkb_reparam`` and
        folds every BatchNorm into the adjacent convolution (or, for the final
        norm, into the head: pooling commutes with a per-channel affine map).
        """
        for module in self.modules():
            if isinstance(module, RepLKBlock | ConvFFN):
                module.reparameterize()
        for unit in self.stem:
            assert isinstance(unit, ConvBN)
            unit.fuse()
        for transition in self.transitions:
            for unit in transition.children():
                assert isinstance(unit, ConvBN)
                unit.fuse()
        if isinstance(self.norm, nn.BatchNorm2d) and isinstance(self.head, nn.Linear):
            bn, head = self.norm, self.head
            assert bn.running_var is not None
            assert bn.running_mean is not None
            scale = bn.weight / (bn.running_var + bn.eps).sqrt()
            shift = bn.bias - bn.running_mean * scale
            with torch.no_grad():
                head.bias.add_(head.weight @ shift)
                head.weight.mul_(scale.view(1, -1))
            self.norm = nn.Identity()
