"""Eval-mode BatchNorm folded away: a numerically equivalent, faster copy of a network.

In eval mode a BatchNorm is a fixed per-channel affine map, yet on CPU its
autograd kernels cost as much as a convolution's: on the mini zoo, removing the
BatchNorms made a forward plus input-gradient pass 1.4-1.6x faster
(``bench/pgd_throughput.py``). :func:`fold_batchnorm` returns a copy in which

- a BatchNorm fed only by a convolution is folded into that convolution's
  kernel and bias (``conv -> bn``);
- a BatchNorm feeding only a pointwise, unpadded convolution is folded into
  that convolution (``bn -> conv1x1``, RepLKNet's pre-norm blocks);
- every other eval BatchNorm becomes a precomputed per-channel affine map.

``torch.fx.experimental.optimization.fuse`` does only the first of these, so
the graph pass is written here. Modules holding no BatchNorm are traced as
leaves, which keeps the pass working on networks whose other parts (attention
reshapes, device checks) are not symbolically traceable; a module with
BatchNorm inside that cannot be traced stays one opaque call in the graph and
is folded on its own (its children one by one if need be). The
input network is never modified: the copy shares every tensor it does not
rewrite.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any, TypeGuard

import torch
from torch import fx, nn

from lkadv.models import bn_affine, fuse_conv_bn

__all__ = ["fold_batchnorm"]

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_Conv = nn.modules.conv._ConvNd
_BatchNorm = nn.modules.batchnorm._BatchNorm


def _foldable(m: nn.Module | None) -> TypeGuard[_BatchNorm]:
    """An eval-mode plain BatchNorm with running statistics (subclasses may do more: left alone)."""
    return (
        isinstance(m, _BatchNorm)
        and type(m) in _BATCHNORMS
        and not m.training
        and getattr(m, "running_mean", None) is not None
        and getattr(m, "running_var", None) is not None
    )


def _has_foldable(m: nn.Module) -> bool:
    return any(_foldable(s) for s in m.modules())


class _ChannelAffine(nn.Module):
    """``x * scale + shift`` along dimension 1: an eval BatchNorm that had no convolution to join."""

    def __init__(self, scale: torch.Tensor, shift: torch.Tensor) -> None:
        super().__init__()
        self.scale: torch.Tensor
        self.shift: torch.Tensor
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (1, -1, *([1] * (x.ndim - 2)))
        return torch.addcmul(self.shift.view(shape), x, self.scale.view(shape))


def _new_conv(conv: _Conv, weight: torch.Tensor, bias: torch.Tensor) -> _Conv:
    """A copy of ``conv`` with the given kernel and bias (memory format kept)."""
    out = copy.copy(conv)
    out._parameters = dict(conv._parameters)
    if weight.ndim == 4 and conv.weight.is_contiguous(memory_format=torch.channels_last):
        weight = weight.contiguous(memory_format=torch.channels_last)
    else:
        weight = weight.contiguous()
    out.weight = nn.Parameter(weight, requires_grad=False)
    out.bias = nn.Parameter(bias.contiguous(), requires_grad=False)
    return out


def _post_fold(conv: _Conv, bn: _BatchNorm) -> _Conv:
    """``conv -> bn`` as one convolution."""
    return _new_conv(conv, *fuse_conv_bn(conv, bn))


def _pre_fold(bn: _BatchNorm, conv: _Conv) -> _Conv:
    """``bn -> pointwise conv`` as one convolution (exact because nothing is padded)."""
    scale, shift = bn_affine(bn)
    w = conv.weight.detach()
    out_ch, per_group = w.shape[0], w.shape[1]
    groups = conv.groups
    # The input channel each kernel entry reads: group g of the output reads input slice g.
    in_index = (torch.arange(out_ch, device=w.device) // (out_ch // groups))[:, None] * per_group + torch.arange(
        per_group, device=w.device
    )
    flat = w.reshape(out_ch, per_group)
    b = conv.bias.detach() if conv.bias is not None else torch.zeros(out_ch, dtype=w.dtype, device=w.device)
    new_w = (flat * scale[in_index]).reshape(w.shape)
    new_b = b + (flat * shift[in_index]).sum(1)
    return _new_conv(conv, new_w, new_b)


def _pointwise(m: nn.Module | None) -> TypeGuard[_Conv]:
    if type(m) not in _CONVS or not isinstance(m, _Conv):
        return False
    padding = m.padding
    unpadded = padding == "valid" or (not isinstance(padding, str) and all(p == 0 for p in padding))
    return unpadded and all(k == 1 for k in m.kernel_size)


class _Tracer(fx.Tracer):
    """Traces into a module only where a foldable BatchNorm lies inside.

    A submodule that cannot be traced (data-dependent control flow, say) is
    kept as one opaque call, so the rest of the graph still folds; the opaque
    modules are folded on their own afterwards.
    """

    def __init__(self) -> None:
        super().__init__()
        self.opaque: dict[int, nn.Module] = {}

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return _foldable(m) or not _has_foldable(m) or id(m) in self.opaque

    def call_module(
        self, m: nn.Module, forward: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        depth = len(self.module_stack)
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:  # any failure inside: this module becomes one opaque call
            while len(self.module_stack) > depth:
                self.module_stack.popitem(last=True)
            self.opaque[id(m)] = m
            return super().call_module(m, forward, args, kwargs)


class _GraphFolder:
    """Rewrites one traced graph: each eval BatchNorm into its neighbour convolution, or into an affine map."""

    def __init__(self, gm: fx.GraphModule, opaque: dict[int, nn.Module]) -> None:
        self.gm, self.opaque = gm, opaque
        self.counter = itertools.count()
        gm.graph.eliminate_dead_code()  # what an abandoned trace of an opaque module left behind
        self.modules = dict(gm.named_modules())

    def module_of(self, node: fx.Node) -> nn.Module | None:
        return self.modules.get(str(node.target)) if node.op == "call_module" else None

    def install(self, node: fx.Node, module: nn.Module) -> None:
        name = f"_lkadv_folded_{next(self.counter)}"
        self.gm.add_submodule(name, module)
        self.modules[name] = module
        node.target = name

    def fold(self, node: fx.Node) -> int:
        """BatchNorms removed at ``node``."""
        inner = self.module_of(node)
        if inner is not None and id(inner) in self.opaque and not _foldable(inner):
            folded, n = _fold(inner)
            if n:
                self.install(node, folded)
            return n
        bn = self.module_of(node)
        if not _foldable(bn) or len(node.args) != 1 or node.kwargs:
            return 0
        if self._into_producer(node, bn) or self._into_consumer(node, bn):
            return 1
        self.install(node, _ChannelAffine(*bn_affine(bn)))
        return 1

    def _into_producer(self, node: fx.Node, bn: nn.modules.batchnorm._BatchNorm) -> bool:
        """``conv -> bn`` with the conv feeding nothing else: the BatchNorm goes into the conv."""
        source = node.args[0]
        conv = self.module_of(source) if isinstance(source, fx.Node) else None
        if not (
            conv is not None
            and isinstance(source, fx.Node)
            and isinstance(conv, _Conv)
            and type(conv) in _CONVS
            and len(source.users) == 1
            and conv.out_channels == bn.num_features
        ):
            return False
        self.install(source, _post_fold(conv, bn))
        node.replace_all_uses_with(source)
        self.gm.graph.erase_node(node)
        return True

    def _into_consumer(self, node: fx.Node, bn: nn.modules.batchnorm._BatchNorm) -> bool:
        """``bn -> conv1x1`` with the BatchNorm feeding nothing else: it goes into the pointwise conv."""
        users = list(node.users)
        target = self.module_of(users[0]) if len(users) == 1 else None
        if not (
            target is not None
            and _pointwise(target)
            and len(users[0].args) == 1
            and not users[0].kwargs
            and target.in_channels == bn.num_features
        ):
            return False
        self.install(users[0], _pre_fold(bn, target))
        users[0].args = (node.args[0],)
        self.gm.graph.erase_node(node)
        return True


def _fold_graph(gm: fx.GraphModule, opaque: dict[int, nn.Module]) -> int:
    """Rewrite ``gm`` in place; returns how many BatchNorms were removed."""
    folder = _GraphFolder(gm, opaque)
    removed = sum(folder.fold(node) for node in list(gm.graph.nodes))
    gm.graph.lint()
    gm.delete_all_unused_submodules()
    gm.recompile()
    return removed


def _fold(module: nn.Module) -> tuple[nn.Module, int]:
    if _foldable(module):
        return _ChannelAffine(*bn_affine(module)), 1
    if not _has_foldable(module):
        return module, 0
    try:
        tracer = _Tracer()
        graph = tracer.trace(module)
    except Exception:  # any tracing failure means "fold the children instead"
        shell = copy.copy(module)
        shell._modules = dict(module._modules)
        total = 0
        for name, child in module._modules.items():
            if child is not None:
                shell._modules[name], n = _fold(child)
                total += n
        return shell, total
    gm = fx.GraphModule(tracer.root, graph, type(module).__name__)
    gm.training = module.training
    return gm, _fold_graph(gm, tracer.opaque)


def _hooked(module: nn.Module) -> bool:
    if nn.modules.module._global_forward_hooks or nn.modules.module._global_forward_pre_hooks:
        return True
    return any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())


def fold_batchnorm(module: nn.Module) -> tuple[nn.Module, int]:
    """A copy of ``module`` with its eval-mode BatchNorms folded away.

    The copy computes the same function up to float rounding (relative
    differences of order 1e-6 in fp32) and shares every tensor it does not
    rewrite. BatchNorms in training mode, without running statistics, or of
    subclasses that add behaviour are kept. A network with forward hooks is
    returned as it is (a traced copy would skip hooks of the modules it traces
    through). Python side effects of a traced ``forward`` (a counter, say) run
    once while tracing, not on every call of the copy.

    Args:
        module: The network (not modified).

    Returns:
        ``(copy, removed)``: the copy (``module`` itself when nothing was
        folded) and the number of BatchNorms it no longer runs.
    """
    if _hooked(module):
        return module, 0
    folded, removed = _fold(module)
    return (folded, removed) if removed else (module, 0)
