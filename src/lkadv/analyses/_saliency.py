"""Patch saliency from a ViT's CLS attention (DINO's rule), from any registered ViT-like model."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from lkadv.errors import ModelContractError

__all__ = ["cls_attention", "last_attention"]


def last_attention(network: nn.Module) -> tuple[str, nn.Module]:
    """The last self-attention module: one with a ``qkv`` linear layer (timm's and the zoo's convention).

    Raises:
        ModelContractError: If the network has none (it cannot serve as a saliency model).
    """
    found = [(n, m) for n, m in network.named_modules() if isinstance(getattr(m, "qkv", None), nn.Linear)]
    if not found:
        raise ModelContractError(
            f"{type(network).__name__} has no attention module with a qkv projection; "
            "a saliency model must be a ViT (e.g. timm:vit_small_patch16_224.dino, or fm-vit on Fashion-MNIST)"
        )
    return found[-1]


def _heads(attn: nn.Module) -> int:
    for name in ("num_heads", "heads"):
        value = getattr(attn, name, None)
        if isinstance(value, int):
            return value
    raise ModelContractError(f"attention module {type(attn).__name__} names no num_heads/heads")


@torch.no_grad()
def cls_attention(model: nn.Module, network: nn.Module, x: torch.Tensor, head: int) -> torch.Tensor:
    """CLS-to-patch attention of one head in the last block, as square maps ``[N, s, s]``.

    Args:
        model: What to call on ``x`` (the Classifier, which normalizes).
        network: The ViT inside it, whose last attention module is read.
        x: Images in [0, 1] at the model's input size.
        head: Head index.
    """
    _, attn = last_attention(network)
    heads = _heads(attn)
    if not 0 <= head < heads:
        raise ModelContractError(f"saliency head {head} is out of range: the model has {heads} heads")
    seen: dict[str, Any] = {}
    handle = attn.register_forward_pre_hook(lambda _m, args: seen.setdefault("tokens", args[0]))
    try:
        model(x)
    finally:
        handle.remove()
    tokens = seen["tokens"].float()
    n, t, c = tokens.shape
    qkv: nn.Module = attn.qkv  # type: ignore[assignment]
    head_dim = int(getattr(attn, "head_dim", c // heads))
    scale = float(getattr(attn, "scale", head_dim**-0.5))
    q, k, _ = qkv(tokens).reshape(n, t, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
    q = getattr(attn, "q_norm", nn.Identity())(q)
    k = getattr(attn, "k_norm", nn.Identity())(k)
    weights = F.softmax((q @ k.transpose(-2, -1)) * scale, -1)
    side = math.isqrt(t)
    prefix = t - side * side
    return weights[:, head, 0, prefix:].reshape(n, side, side)
