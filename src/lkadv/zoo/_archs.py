"""The mini-zoo architectures, sized for 1x28x28 Fashion-MNIST on a laptop CPU.

Each family mirrors the structural idea of its ImageNet-scale counterpart in the
LKRobust study, not its size: a 3x3 ResNet, a 7x7 ConvNeXt, a RepLKNet-style
block (large depthwise kernel with a parallel small kernel, merged at load), a
SLaK-style block (decomposed ``K x k`` and ``k x K`` kernels plus a small one),
a small ViT, and a Gauss-network head (Centroid Based Tailoring) on the ResNet.

Every network takes *normalized* input; the core's Classifier normalizes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.models import fuse_conv_bn, pad_kernel_to

__all__ = [
    "ConvNeXtFM",
    "GaussHead",
    "RepLKNetFM",
    "ResNetFM",
    "SLaKNetFM",
    "ViTFM",
    "gauss_resnet",
    "param_count",
]


class _ConvBN(nn.Sequential):
    """Convolution followed by BatchNorm, with the ``conv``/``bn`` keys of RepLKNet."""

    def __init__(
        self,
        cin: int,
        cout: int,
        kernel: int | tuple[int, int],
        stride: int = 1,
        groups: int = 1,
    ) -> None:
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, (kh, kw), stride, (kh // 2, kw // 2), groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)


# --------------------------------------------------------------------------- ResNet


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = _ConvBN(cin, cout, 3, stride)
        self.conv2 = _ConvBN(cout, cout, 3)
        self.shortcut: nn.Module = _ConvBN(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.conv1(x))
        return F.relu(self.conv2(out) + self.shortcut(x))


class ResNetFM(nn.Module):
    """A 3x3 ResNet: 28x28 stem, then stages at 14x14 and 7x7.

    Args:
        widths: Channels of the stem and the two stages.
        num_classes: Output classes.
        in_chans: Input channels.
    """

    def __init__(self, widths: tuple[int, int, int] = (24, 32, 64), num_classes: int = 10, in_chans: int = 1) -> None:
        super().__init__()
        w0, w1, w2 = widths
        self.stem = _ConvBN(in_chans, w0, 3)
        self.stages = nn.Sequential(
            _BasicBlock(w0, w1, 2), _BasicBlock(w1, w1, 1), _BasicBlock(w1, w2, 2), _BasicBlock(w2, w2, 1)
        )
        self.num_features = w2
        self.head: nn.Module = nn.Linear(w2, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features before the head."""
        return self.stages(F.relu(self.stem(x))).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


# ------------------------------------------------------------------------- ConvNeXt


class _LayerNorm2d(nn.LayerNorm):
    """LayerNorm over channels of an NCHW tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class _ConvNeXtBlock(nn.Module):
    def __init__(self, dim: int, kernel: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.pwconv1 = nn.Linear(dim, 3 * dim)
        self.pwconv2 = nn.Linear(3 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(F.gelu(self.pwconv1(self.norm(y)))) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class ConvNeXtFM(nn.Module):
    """A ConvNeXt with 7x7 depthwise kernels: 2x2 patchify stem, stages at 14x14 and 7x7.

    Args:
        dims: Channels of the two stages.
        depths: Blocks per stage.
        kernel: Depthwise kernel size.
        num_classes: Output classes.
        in_chans: Input channels.
    """

    def __init__(
        self,
        dims: tuple[int, int] = (32, 64),
        depths: tuple[int, int] = (2, 2),
        kernel: int = 7,
        num_classes: int = 10,
        in_chans: int = 1,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], 2, 2), _LayerNorm2d(dims[0]))
        self.stage1 = nn.Sequential(*[_ConvNeXtBlock(dims[0], kernel) for _ in range(depths[0])])
        self.downsample = nn.Sequential(_LayerNorm2d(dims[0]), nn.Conv2d(dims[0], dims[1], 2, 2))
        self.stage2 = nn.Sequential(*[_ConvNeXtBlock(dims[1], kernel) for _ in range(depths[1])])
        self.norm = nn.LayerNorm(dims[1])
        self.head = nn.Linear(dims[1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stage2(self.downsample(self.stage1(self.stem(x))))
        return self.head(self.norm(x.mean((2, 3))))


# ------------------------------------------------------------- RepLKNet and SLaK


class _ReparamLargeKernel(nn.Module):
    """Depthwise large kernel with parallel branches, merged into one conv by :meth:`reparameterize`.

    ``decomposed=False`` gives RepLKNet's pair (``lkb_origin`` K x K and
    ``small_conv`` k x k). ``decomposed=True`` gives SLaK's triple (``LoRA1`` K x k,
    ``LoRA2`` k x K and ``small_conv`` k x k).
    """

    def __init__(self, dim: int, kernel: int, small: int, decomposed: bool) -> None:
        super().__init__()
        self.kernel = kernel
        self.branches: list[str]
        if decomposed:
            self.LoRA1 = _ConvBN(dim, dim, (kernel, small), groups=dim)
            self.LoRA2 = _ConvBN(dim, dim, (small, kernel), groups=dim)
            self.branches = ["LoRA1", "LoRA2", "small_conv"]
        else:
            self.lkb_origin = _ConvBN(dim, dim, kernel, groups=dim)
            self.branches = ["lkb_origin", "small_conv"]
        self.small_conv = _ConvBN(dim, dim, small, groups=dim)
        self.lkb_reparam: nn.Conv2d | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.lkb_reparam is not None:
            return self.lkb_reparam(x)
        return sum((getattr(self, b)(x) for b in self.branches), torch.zeros((), device=x.device))

    def reparameterize(self) -> None:
        """Merge every branch into the single conv ``lkb_reparam`` and drop the branches."""
        if self.lkb_reparam is not None:
            return
        weight = torch.zeros(0)
        bias = torch.zeros(0)
        for i, name in enumerate(self.branches):
            branch = getattr(self, name)
            w, b = fuse_conv_bn(branch.conv, branch.bn)
            w = pad_kernel_to(w, (self.kernel, self.kernel))
            weight, bias = (w, b) if i == 0 else (weight + w, bias + b)
        dim = weight.shape[0]
        conv = nn.Conv2d(dim, dim, self.kernel, padding=self.kernel // 2, groups=dim, bias=True)
        conv.weight.data.copy_(weight)
        assert conv.bias is not None
        conv.bias.data.copy_(bias)
        self.lkb_reparam = conv.to(weight.device)
        for name in self.branches:
            delattr(self, name)
        self.branches = []


class _RepLKBlock(nn.Module):
    """RepLKNet's block: BN, pointwise, large depthwise kernel, pointwise, residual."""

    def __init__(self, dim: int, kernel: int, small: int, decomposed: bool) -> None:
        super().__init__()
        self.prelkb_bn = nn.BatchNorm2d(dim)
        self.pw1 = _ConvBN(dim, dim, 1)
        self.large_kernel = _ReparamLargeKernel(dim, kernel, small, decomposed)
        self.pw2 = _ConvBN(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.pw1(self.prelkb_bn(x)))
        out = F.relu(self.large_kernel(out))
        return x + self.pw2(out)


class _ConvFFN(nn.Module):
    """RepLKNet's feed-forward block of pointwise convolutions."""

    def __init__(self, dim: int, ratio: int = 2) -> None:
        super().__init__()
        self.preffn_bn = nn.BatchNorm2d(dim)
        self.pw1 = _ConvBN(dim, dim * ratio, 1)
        self.pw2 = _ConvBN(dim * ratio, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pw2(F.gelu(self.pw1(self.preffn_bn(x))))


class _LargeKernelNet(nn.Module):
    """Two stages of large-kernel blocks, each followed by a ConvFFN, at 14x14 and 7x7.

    Args:
        dims: Channels of the two stages.
        kernels: Large kernel size per stage.
        small: The parallel small kernel's size (and the short side of decomposed kernels).
        num_classes: Output classes.
        in_chans: Input channels.
    """

    #: Whether each large kernel is SLaK's pair of decomposed KxS and SxK kernels.
    DECOMPOSED = False

    def __init__(
        self,
        dims: tuple[int, int] = (48, 96),
        kernels: tuple[int, int] = (13, 13),
        small: int = 3,
        num_classes: int = 10,
        in_chans: int = 1,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(_ConvBN(in_chans, dims[0], 3, 2), nn.ReLU())
        self.stages = nn.ModuleList(
            nn.Sequential(_RepLKBlock(dim, k, small, self.DECOMPOSED), _ConvFFN(dim))
            for dim, k in zip(dims, kernels, strict=True)
        )
        self.transition = nn.Sequential(_ConvBN(dims[0], dims[1], 3, 2), nn.ReLU())
        self.norm = nn.BatchNorm2d(dims[1])
        self.head = nn.Linear(dims[1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages[0](self.stem(x))
        x = self.stages[1](self.transition(x))
        return self.head(self.norm(x).mean((2, 3)))

    def reparameterize(self) -> None:
        """Merge the parallel kernels of every block (in place, idempotent)."""
        for module in self.modules():
            if isinstance(module, _ReparamLargeKernel):
                module.reparameterize()


class RepLKNetFM(_LargeKernelNet):
    """A RepLKNet-style net: 13x13 depthwise kernels plus parallel 3x3, at 14x14 and 7x7 (arguments as the base)."""


class SLaKNetFM(_LargeKernelNet):
    """A SLaK-style net: decomposed 13x3 and 3x13 kernels plus a 3x3 one, merged at load (arguments as the base)."""

    DECOMPOSED = True


# ------------------------------------------------------------------------------ ViT


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class _TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTFM(nn.Module):
    """A small ViT: 4x4 patches (7x7 tokens), a class token and learned positions.

    Args:
        dim: Token width.
        depth: Transformer blocks.
        heads: Attention heads.
        mlp_ratio: MLP expansion.
        patch: Patch size.
        num_classes: Output classes.
        in_chans: Input channels.
        img_size: Input side.
    """

    def __init__(
        self,
        dim: int = 64,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: int = 2,
        patch: int = 4,
        num_classes: int = 10,
        in_chans: int = 1,
        img_size: int = 28,
    ) -> None:
        super().__init__()
        tokens = (img_size // patch) ** 2
        self.patch_embed = nn.Conv2d(in_chans, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[_TransformerBlock(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        x = self.norm(self.blocks(x))
        return self.head(x[:, 0])


# ------------------------------------------------------------------------ Gauss net


class GaussHead(nn.Module):
    """Centroid Based Tailoring: classify by proximity to fixed, equal-norm class centroids.

    The features are projected to ``embed_dim`` and compared with ``num_classes``
    fixed centroids, orthonormal vectors scaled to ``radius`` (so every centroid is
    at the same distance from the origin and from each other). The logits are the
    negative squared distances, so argmax is the nearest centroid and a softmax
    over them is a Gaussian class posterior with equal priors.

    Args:
        in_features: Width of the backbone's pooled features.
        num_classes: Number of centroids.
        embed_dim: Dimension of the embedding (at least ``num_classes``).
        radius: Norm of every centroid.
        seed: Seed of the fixed centroid basis.
    """

    def __init__(
        self, in_features: int, num_classes: int = 10, embed_dim: int = 16, radius: float = 4.0, seed: int = 0
    ) -> None:
        super().__init__()
        if embed_dim < num_classes:
            raise ValueError("embed_dim must be at least num_classes for orthogonal centroids")
        self.proj = nn.Linear(in_features, embed_dim)
        gen = torch.Generator().manual_seed(seed)
        basis, _ = torch.linalg.qr(torch.randn(embed_dim, num_classes, generator=gen))
        self.register_buffer("centroids", radius * basis.T.contiguous())
        self.radius = radius

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = self.proj(features)
        centroids: torch.Tensor = self.centroids  # type: ignore[assignment]
        # ||z - c||^2 expanded; the ||c||^2 term is the same for every class but kept
        # so that the logits are exactly the negative squared distances.
        return -(z.pow(2).sum(1, keepdim=True) - 2 * z @ centroids.T + centroids.pow(2).sum(1))


def gauss_resnet(num_classes: int = 10, in_chans: int = 1) -> ResNetFM:
    """The plain ResNetFM backbone with a :class:`GaussHead` instead of its linear head."""
    model = ResNetFM(num_classes=num_classes, in_chans=in_chans)
    model.head = GaussHead(model.num_features, num_classes)
    return model


def param_count(model: nn.Module) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in model.parameters())
