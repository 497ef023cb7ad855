"""UniRepLKNet ("UniRepLKNet: A Universal Perception Large-Kernel ConvNet...", Ding et al., CVPR 2024).

Four stages of blocks: depthwise conv (a 13x13 Dilated Reparam Block in most
blocks, a plain 3x3 in the rest), BatchNorm, squeeze-and-excitation, and a
Linear-GELU-GRN-Linear-BN feed-forward with layer scale. The Dilated Reparam
Block adds to the large kernel (``lk_origin`` + ``origin_bn``) parallel small
*dilated* depthwise kernels (``dil_conv_k{k}_{r}`` + ``dil_bn_k{k}_{r}``); a
``k x k`` kernel with dilation ``r`` equals a ``(r(k-1)+1)``-sized kernel with
zeros between its taps, so all branches sum into one large kernel.
:meth:`UniRepLKNet.reparameterize` does that and also folds the BatchNorms, the
GRN bias and the layer scale, as the official deploy form does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.models import fuse_conv_bn, pad_kernel_to
from lkadv_largekernel._layers import (
    DropPath,
    LayerNorm2d,
    StagedNet,
    biased_conv_like,
    make_conv,
)

__all__ = ["DILATED_BRANCHES", "DilatedReparamBlock", "UniRepLKNet", "dilate_kernel"]

# (kernel sizes, dilations) of the parallel branches per large kernel size, as published.
DILATED_BRANCHES: dict[int, tuple[tuple[int, ...], tuple[int, ...]]] = {
    17: ((5, 9, 3, 3, 3), (1, 2, 4, 5, 7)),
    15: ((5, 7, 3, 3, 3), (1, 2, 3, 5, 7)),
    13: ((5, 7, 3, 3, 3), (1, 2, 3, 4, 5)),
    11: ((5, 5, 3, 3, 3), (1, 2, 3, 4, 5)),
    9: ((5, 5, 3, 3), (1, 2, 3, 4)),
    7: ((5, 3, 3), (1, 2, 3)),
    5: ((3, 3), (1, 2)),
}


def dilate_kernel(weight: torch.Tensor, rate: int) -> torch.Tensor:
    """The undilated kernel equal to ``weight`` applied with dilation ``rate``.

    Args:
        weight: ``[O, I, k, k]`` kernel.
        rate: Dilation.

    Returns:
        ``[O, I, r(k-1)+1, r(k-1)+1]`` kernel with the taps ``rate`` apart and zeros between.
    """
    out, cin, kh, kw = weight.shape
    dense = weight.new_zeros((out, cin, rate * (kh - 1) + 1, rate * (kw - 1) + 1))
    dense[:, :, ::rate, ::rate] = weight
    return dense


class DilatedReparamBlock(nn.Module):
    """A large depthwise kernel plus parallel dilated small kernels, each with BatchNorm.

    Args:
        channels: Channels (one group each).
        kernel: Large kernel size (5..17, odd).
    """

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        if kernel not in DILATED_BRANCHES:
            raise ValueError(f"a Dilated Reparam Block needs a kernel in {sorted(DILATED_BRANCHES)}, got {kernel}")
        self.kernel = kernel
        self.kernel_sizes, self.dilates = DILATED_BRANCHES[kernel]
        self.lk_origin = make_conv(channels, channels, kernel, groups=channels)
        self.origin_bn: nn.BatchNorm2d | None = nn.BatchNorm2d(channels)
        for k, r in self._branches():
            self.add_module(f"dil_conv_k{k}_{r}", make_conv(channels, channels, k, groups=channels, dilation=r))
            self.add_module(f"dil_bn_k{k}_{r}", nn.BatchNorm2d(channels))
        self.merged = False

    def _branches(self) -> list[tuple[int, int]]:
        return list(zip(self.kernel_sizes, self.dilates, strict=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.merged:
            return self.lk_origin(x)
        assert self.origin_bn is not None
        out = self.origin_bn(self.lk_origin(x))
        for k, r in self._branches():
            out = out + getattr(self, f"dil_bn_k{k}_{r}")(getattr(self, f"dil_conv_k{k}_{r}")(x))
        return out

    def merged_kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The single large kernel and bias equal to all branches in eval mode."""
        if self.merged:
            assert self.lk_origin.bias is not None
            return self.lk_origin.weight.detach(), self.lk_origin.bias.detach()
        assert self.origin_bn is not None
        size = (self.kernel, self.kernel)
        weight, bias = fuse_conv_bn(self.lk_origin, self.origin_bn)
        for k, r in self._branches():
            w, b = fuse_conv_bn(getattr(self, f"dil_conv_k{k}_{r}"), getattr(self, f"dil_bn_k{k}_{r}"))
            weight = weight + pad_kernel_to(dilate_kernel(w, r), size)
            bias = bias + b
        return weight, bias

    def reparameterize(self) -> None:
        """Merge every branch into ``lk_origin`` (now with a bias) and drop the rest (idempotent)."""
        if self.merged:
            return
        weight, bias = self.merged_kernel()
        self.lk_origin = biased_conv_like(self.lk_origin, weight, bias)
        self.origin_bn = None
        for k, r in self._branches():
            delattr(self, f"dil_conv_k{k}_{r}")
            delattr(self, f"dil_bn_k{k}_{r}")
        self.merged = True


class SEBlock(nn.Module):
    """Squeeze-and-excitation with 1x1 convolutions ``down`` and ``up``.

    Args:
        channels: Channels.
        internal: Bottleneck width.
    """

    def __init__(self, channels: int, internal: int) -> None:
        super().__init__()
        self.down = nn.Conv2d(channels, internal, 1, bias=True)
        self.up = nn.Conv2d(internal, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.sigmoid(self.up(F.relu(self.down(F.adaptive_avg_pool2d(x, 1)))))
        return x * scale


class GRN(nn.Module):
    """Global Response Normalization on NHWC tensors (ConvNeXt V2), keys ``gamma`` and ``beta``.

    Args:
        dim: Channels.
        use_bias: Whether ``beta`` exists (it is folded away by re-parameterization).
    """

    def __init__(self, dim: int, use_bias: bool = True) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta: nn.Parameter | None = nn.Parameter(torch.zeros(1, 1, 1, dim)) if use_bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gx = torch.linalg.vector_norm(x, ord=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + 1e-6)
        out = (self.gamma * nx + 1) * x
        return out + self.beta if self.beta is not None else out


class _ToNHWC(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1)


class _ToNCHW(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2)


class UniRepLKNetBlock(nn.Module):
    """dwconv, BN, SE, Linear, GELU, GRN, Linear, BN, layer scale, residual.

    Args:
        dim: Block width.
        kernel: Depthwise kernel: 3 or 5 (plain conv) or 7..17 (Dilated Reparam Block).
        drop_path: Stochastic depth rate.
        layer_scale_init_value: Initial layer-scale value.
        ffn_factor: FFN width over block width.
    """

    def __init__(
        self, dim: int, kernel: int, drop_path: float, layer_scale_init_value: float, ffn_factor: int = 4
    ) -> None:
        super().__init__()
        if kernel >= 7:
            self.dwconv: nn.Module = DilatedReparamBlock(dim, kernel)
        elif kernel in (3, 5):
            self.dwconv = make_conv(dim, dim, kernel, groups=dim)
        else:
            raise ValueError(f"UniRepLKNet kernels are 3, 5 or 7..17, got {kernel}")
        self.norm: nn.Module = nn.BatchNorm2d(dim)
        self.se = SEBlock(dim, dim // 4)
        hidden = int(ffn_factor * dim)
        self.pwconv1 = nn.Sequential(_ToNHWC(), nn.Linear(dim, hidden))
        self.act = nn.Sequential(nn.GELU(), GRN(hidden, use_bias=True))
        self.pwconv2 = nn.Sequential(nn.Linear(hidden, dim, bias=False), _ToNCHW(), nn.BatchNorm2d(dim))
        self.gamma: nn.Parameter | None = nn.Parameter(torch.full((dim,), layer_scale_init_value))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.se(self.norm(self.dwconv(x)))
        y = self.pwconv2(self.act(self.pwconv1(y)))
        if self.gamma is not None:
            y = self.gamma.view(1, -1, 1, 1) * y
        return x + self.drop_path(y)

    def reparameterize(self) -> None:
        """Merge the dilated branches and fold BN, GRN bias and layer scale (in place, idempotent)."""
        if isinstance(self.dwconv, DilatedReparamBlock):
            self.dwconv.reparameterize()
        if isinstance(self.norm, nn.BatchNorm2d):
            conv = self.dwconv.lk_origin if isinstance(self.dwconv, DilatedReparamBlock) else self.dwconv
            assert isinstance(conv, nn.Conv2d)
            weight, bias = fuse_conv_bn(conv, self.norm)
            merged = biased_conv_like(conv, weight, bias)
            if isinstance(self.dwconv, DilatedReparamBlock):
                self.dwconv.lk_origin = merged
            else:
                self.dwconv = merged
            self.norm = nn.Identity()
        grn = self.act[1]
        assert isinstance(grn, GRN)
        if len(self.pwconv2) == 3:
            linear, bn = self.pwconv2[0], self.pwconv2[2]
            assert isinstance(linear, nn.Linear)
            assert isinstance(bn, nn.BatchNorm2d)
            assert bn.running_var is not None
            assert bn.running_mean is not None
            scale = bn.weight / (bn.running_var + bn.eps).sqrt()
            layer_scale = self.gamma.detach() if self.gamma is not None else torch.ones_like(scale)
            # Linear(g) with no bias, then BN, then layer scale: one Linear with bias.
            linear_bias = torch.zeros_like(scale)
            if grn.beta is not None:
                linear_bias = linear.weight @ grn.beta.detach().reshape(-1)
            new = nn.Linear(linear.in_features, linear.out_features, device="meta")
            new.weight = nn.Parameter((linear.weight * (scale * layer_scale).view(-1, 1)).detach())
            new.bias = nn.Parameter(((bn.bias + (linear_bias - bn.running_mean) * scale) * layer_scale).detach())
            self.pwconv2 = nn.Sequential(new, _ToNCHW())
            grn.beta = None
            self.gamma = None


# Kernel size of every block, per published variant depth.
_KERNELS: dict[tuple[int, ...], tuple[tuple[int, ...], ...]] = {
    (2, 2, 6, 2): ((3, 3), (13, 13), (13,) * 6, (13, 13)),
    (2, 2, 8, 2): ((3, 3), (13, 13), (13,) * 8, (13, 13)),
    (3, 3, 18, 3): ((3, 3, 3), (13, 13, 13), (13, 3) * 9, (13, 13, 13)),
    (3, 3, 27, 3): ((3, 3, 3), (13, 13, 13), (13, 3, 3) * 9, (13, 13, 13)),
}


class UniRepLKNet(StagedNet):
    """UniRepLKNet for image classification.

    Args:
        depths: Blocks per stage.
        dims: Width per stage.
        kernel_sizes: Kernel size of every block per stage; None picks the published
            layout for ``depths``.
        in_chans: Input channels.
        num_classes: Number of logits.
        drop_path_rate: Largest stochastic depth rate.
        layer_scale_init_value: Initial layer-scale value.
    """

    REPARAM_TYPE = UniRepLKNetBlock

    def __init__(
        self,
        depths: Sequence[int] = (3, 3, 27, 3),
        dims: Sequence[int] = (96, 192, 384, 768),
        kernel_sizes: Sequence[Sequence[int]] | None = None,
        in_chans: int = 3,
        num_classes: int = 1000,
        drop_path_rate: float = 0.0,
        layer_scale_init_value: float = 1e-6,
    ) -> None:
        super().__init__()
        depths = tuple(depths)
        if kernel_sizes is None:
            if depths not in _KERNELS:
                raise ValueError(f"no published kernel layout for depths {depths}; pass kernel_sizes")
            kernel_sizes = _KERNELS[depths]
        if [len(k) for k in kernel_sizes] != list(depths) or len(dims) != 4:
            raise ValueError("kernel_sizes must give one kernel per block of each of the four stages")
        stem = nn.Sequential(
            nn.Conv2d(in_chans, dims[0] // 2, 3, 2, 1),
            LayerNorm2d(dims[0] // 2),
            nn.GELU(),
            nn.Conv2d(dims[0] // 2, dims[0], 3, 2, 1),
            LayerNorm2d(dims[0]),
        )
        layout = kernel_sizes
        self.build_trunk(
            [stem]
            + [nn.Sequential(nn.Conv2d(dims[i], dims[i + 1], 3, 2, 1), LayerNorm2d(dims[i + 1])) for i in range(3)],
            depths,
            lambda i, j, rate: UniRepLKNetBlock(dims[i], layout[i][j], rate, layer_scale_init_value),
            (drop_path_rate, dims[-1], num_classes),
        )

    def to_official_deploy(self) -> None:
        """Convert in place to the layout of the official deploy checkpoints (idempotent).

        The official ``reparameterize_unireplknet()`` folds what :meth:`reparameterize`
        folds (dilated branches, the BatchNorm after the depthwise conv, GRN bias, the FFN's
        BatchNorm and layer scale), so the two layouts are the same.
        """
        self.reparameterize()
