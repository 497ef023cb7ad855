"""Building blocks shared by the three families: conv+BN pairs, channels-first LayerNorm, heads.

State dict keys follow the official code bases (``conv``/``bn`` children of a
sequential, ``weight``/``bias`` of a LayerNorm), so that the official
checkpoints load with ``strict=True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.models import fuse_conv_bn
from lkadv_largekernel._dwconv import DepthwiseConv2d

__all__ = [
    "ClassifierMixin",
    "ConvBN",
    "DropPath",
    "LayerNorm2d",
    "StagedNet",
    "biased_conv_like",
    "drop_path_rates",
    "init_trunc_normal",
    "make_conv",
]


def _pair(k: int | tuple[int, int]) -> tuple[int, int]:
    return (k, k) if isinstance(k, int) else (int(k[0]), int(k[1]))


def make_conv(
    cin: int,
    cout: int,
    kernel: int | tuple[int, int],
    *,
    stride: int = 1,
    groups: int = 1,
    bias: bool = False,
    dilation: int = 1,
) -> nn.Conv2d:
    """A "same"-padded convolution; depthwise large kernels get :class:`DepthwiseConv2d`.

    Args:
        cin: Input channels.
        cout: Output channels.
        kernel: Kernel size (odd sides), int or ``(kh, kw)``.
        stride: Stride.
        groups: Groups.
        bias: Whether to add a bias.
        dilation: Dilation.

    Returns:
        The convolution (always an ``nn.Conv2d``).
    """
    kh, kw = _pair(kernel)
    if groups == cin == cout and stride == 1:
        return DepthwiseConv2d(cin, (kh, kw), bias=bias, dilation=dilation)
    pad = (dilation * (kh - 1) // 2, dilation * (kw - 1) // 2)
    return nn.Conv2d(cin, cout, (kh, kw), stride, pad, dilation=dilation, groups=groups, bias=bias)


def biased_conv_like(conv: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor) -> nn.Conv2d:
    """A convolution with ``conv``'s geometry, the given weight and a bias (for merged branches).

    Args:
        conv: Template convolution (stride, padding, groups, dilation).
        weight: New kernel; its spatial size may differ from ``conv``'s (padding follows it).
        bias: New bias.

    Returns:
        The new convolution, on the weight's device and dtype.
    """
    cout, cin_g, kh, kw = weight.shape
    cin = cin_g * conv.groups
    stride = int(conv.stride[0])
    # Built on the meta device (no allocation, no random init), then given the merged tensors.
    if conv.groups == cin == cout and stride == 1:
        new: nn.Conv2d = DepthwiseConv2d(cin, (kh, kw), bias=True, device="meta")
    else:
        new = nn.Conv2d(cin, cout, (kh, kw), stride, (kh // 2, kw // 2), groups=conv.groups, bias=True, device="meta")
    new.weight = nn.Parameter(weight.detach())
    new.bias = nn.Parameter(bias.detach())
    return new


class ConvBN(nn.Sequential):
    """Convolution (no bias) then BatchNorm, optionally ReLU: keys ``conv.*``, ``bn.*``.

    Args:
        cin: Input channels.
        cout: Output channels.
        kernel: Kernel size, int or ``(kh, kw)``.
        stride: Stride.
        groups: Groups.
        relu: Append a ReLU (child ``nonlinear``, as in RepLKNet's ``conv_bn_relu``).
    """

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        groups: int = 1,
        relu: bool = False,
    ) -> None:
        super().__init__()
        self.conv = make_conv(cin, cout, kernel, stride=stride, groups=groups)
        self.bn: nn.Module = nn.BatchNorm2d(cout)
        if relu:
            self.nonlinear = nn.ReLU()

    def fused(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The kernel and bias of ``bn(conv(x))`` (eval mode)."""
        assert isinstance(self.bn, nn.BatchNorm2d), "already fused"
        return fuse_conv_bn(self.conv, self.bn)

    def fuse(self) -> None:
        """Fold the BatchNorm into the convolution in place (idempotent)."""
        if not isinstance(self.bn, nn.BatchNorm2d):
            return
        weight, bias = self.fused()
        self.conv = biased_conv_like(self.conv, weight, bias)
        self.bn = nn.Identity()


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of an NCHW tensor, with ConvNeXt's ``weight``/``bias`` keys.

    Args:
        channels: Number of channels.
        eps: Added to the variance.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)


class DropPath(nn.Module):
    """Stochastic depth on the residual branch (identity in eval mode).

    Args:
        prob: Probability of dropping the branch of a sample while training.
    """

    def __init__(self, prob: float = 0.0) -> None:
        super().__init__()
        self.prob = prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.prob == 0.0:
            return x
        keep = 1.0 - self.prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


def drop_path_rates(total: int, rate: float) -> list[float]:
    """Stochastic depth rates rising linearly from 0 to ``rate`` over ``total`` blocks.

    Plain Python rather than ``torch.linspace`` so that models can be built on the meta device.
    """
    return [rate * i / (total - 1) if total > 1 else 0.0 for i in range(total)]


def init_trunc_normal(module: nn.Module) -> None:
    """ConvNeXt-style initialisation: truncated normal (std 0.02) weights, zero biases."""
    if isinstance(module, nn.Conv2d | nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class ClassifierMixin(nn.Module):
    """The timm-style classifier surface shared by the three families.

    Subclasses define ``forward_features`` (pooled, normalized features),
    ``head`` (an ``nn.Linear``), ``num_features`` and ``num_classes``.
    """

    head: nn.Module
    num_features: int
    num_classes: int

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled, normalized features (``[N, num_features]``)."""
        raise NotImplementedError

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Apply the classifier to pooled features."""
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        """The final linear layer."""
        return self.head

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the head with a fresh one for ``num_classes`` (0: identity)."""
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()


class StagedNet(ClassifierMixin):
    """The ConvNeXt-style trunk SLaK and UniRepLKNet share.

    Four downsampling layers, each followed by a stage of blocks, then global
    average pooling, a LayerNorm and a linear head. Subclasses build their
    layers with :meth:`build_trunk` and say which modules :meth:`reparameterize` merges.
    """

    downsample_layers: nn.ModuleList
    stages: nn.ModuleList
    norm: nn.LayerNorm
    #: The module type whose ``reparameterize()`` the network's own calls in turn.
    REPARAM_TYPE: type[nn.Module] = nn.Module

    def build_trunk(
        self,
        downsample: Sequence[nn.Module],
        depths: Sequence[int],
        block: Callable[[int, int, float], nn.Module],
        rates: tuple[float, int, int],
    ) -> None:
        """Set the layers: ``block(stage, index in stage, drop-path rate)`` makes each block.

        Args:
            downsample: The layer before each stage.
            depths: Blocks per stage.
            block: Makes one block.
            rates: ``(drop_path_rate, features, num_classes)``: the stochastic depth
                rate (rising linearly over all blocks), the last stage's width and the
                number of classes.
        """
        drop_path_rate, features, num_classes = rates
        self.downsample_layers = nn.ModuleList(downsample)
        per_block = drop_path_rates(sum(depths), drop_path_rate)
        self.stages = nn.ModuleList()
        start = 0
        for stage, depth in enumerate(depths):
            self.stages.append(nn.Sequential(*(block(stage, j, per_block[start + j]) for j in range(depth))))
            start += depth
        self.norm = nn.LayerNorm(features, eps=1e-6)
        self.num_features = features
        self.num_classes = num_classes
        self.head = nn.Linear(features, num_classes)
        self.apply(init_trunc_normal)

    def forward_feature_map(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's feature map."""
        for down, stage in zip(self.downsample_layers, self.stages, strict=True):
            x = stage(down(x))
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Globally pooled, normalized features."""
        return self.norm(self.forward_feature_map(x).mean((-2, -1)))

    def reparameterize(self) -> None:
        """Merge every re-parameterizable module (in place, idempotent)."""
        for module in self.modules():
            if isinstance(module, self.REPARAM_TYPE):
                module.reparameterize()  # type: ignore[operator]
