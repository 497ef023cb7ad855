"""Registering the architectures with timm, so ``timm.create_model('replknet_31b')`` works.

Every architecture becomes a timm entrypoint, and every official weights entry a
pretrained tag (``replknet_31b.in22k_ft_in1k``) whose config carries the input
size, mean/std, interpolation and crop. ``pretrained=True`` loads the official
file through this plugin's weights lookup (local folders, caches, downloads),
and ``pretrained_cfg_overlay={'file': PATH}`` loads a local file instead, so
lkadv's ``timm:replknet_31b[file=PATH]`` works too.

Registration uses timm's public ``register_model`` and ``generate_default_cfgs``.
It is idempotent: an architecture that timm already knows from this plugin is
skipped, and a name another package registered first is left alone (with a warning).
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lkadv_largekernel._catalog import ARCHITECTURES, WEIGHTS, WeightsEntry
from lkadv_largekernel._factory import build, load_official
from lkadv_largekernel._weights import obtain_weights

__all__ = ["pretrained_cfg_dict", "register_timm_models"]

_MARK = "_lkadv_largekernel"

# timm reads the default configs from the module of each entrypoint, under this name.
default_cfgs: dict[str, Any] = {}


def pretrained_cfg_dict(entry: WeightsEntry) -> dict[str, Any]:
    """A timm pretrained config for an official weights entry (no download happens through timm)."""
    primary = entry.sources[0]
    return {
        "url": primary.download_url or primary.page,
        "num_classes": entry.num_classes,
        "input_size": (3, entry.input_size, entry.input_size),
        "pool_size": None,
        "crop_pct": entry.crop_pct,
        "crop_mode": entry.crop_mode,
        "interpolation": "bicubic",
        "mean": entry.mean,
        "std": entry.std,
        "classifier": "head",
        "license": "apache-2.0" if entry.arch.startswith("unireplknet") else "mit",
        "paper_ids": {"replknet": "arXiv:2203.06717", "slak": "arXiv:2207.03620", "unireplknet": "arXiv:2311.15599"}[
            ARCHITECTURES[entry.arch].family
        ],
    }


def _tag_of(pretrained_cfg: Any) -> str | None:
    if isinstance(pretrained_cfg, str):
        return pretrained_cfg
    if isinstance(pretrained_cfg, dict):
        return pretrained_cfg.get("tag")
    return getattr(pretrained_cfg, "tag", None) if pretrained_cfg is not None else None


def _create(arch: str, pretrained: bool, pretrained_cfg: Any, pretrained_cfg_overlay: Any, **kwargs: Any) -> nn.Module:
    from timm.models import resolve_pretrained_cfg

    kwargs.pop("cache_dir", None)
    kwargs.pop("pretrained_model_args", None)
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    tag = _tag_of(pretrained_cfg)
    cfg = resolve_pretrained_cfg(arch, pretrained_cfg=pretrained_cfg, pretrained_cfg_overlay=pretrained_cfg_overlay)
    tag = tag or cfg.tag
    entry = WEIGHTS.get(f"{arch}.{tag}") if tag else None
    with torch.device(device) if device is not None else contextlib.nullcontext():
        model = build(arch, **kwargs)
    if pretrained:
        file = (pretrained_cfg_overlay or {}).get("file") or None
        if entry is None and not file:
            raise RuntimeError(f"{arch} has no pretrained tag {tag!r}; known: {_known_tags(arch)}")
        num_classes = getattr(model, "num_classes", None)
        if entry is not None and num_classes != entry.num_classes:
            raise ValueError(
                f"{arch}.{tag} has {entry.num_classes} classes; load it with the default head, "
                f"then call model.reset_classifier({num_classes})"
            )
        path = Path(file).expanduser() if file else obtain_weights(entry)  # type: ignore[arg-type]
        load_official(model, path, entry)
    model.pretrained_cfg = cfg.to_dict()  # type: ignore[no-untyped-call,assignment]
    model.default_cfg = model.pretrained_cfg  # type: ignore[assignment]
    if dtype is not None:
        model = model.to(dtype=dtype)
    return model


def _known_tags(arch: str) -> str:
    return ", ".join(w.tag for w in WEIGHTS.values() if w.arch == arch) or "none"


def _entrypoint(arch: str) -> Callable[..., nn.Module]:
    def entrypoint(
        pretrained: bool = False,
        pretrained_cfg: Any = None,
        pretrained_cfg_overlay: Any = None,
        **kwargs: Any,
    ) -> nn.Module:
        return _create(arch, pretrained, pretrained_cfg, pretrained_cfg_overlay, **kwargs)

    entrypoint.__name__ = entrypoint.__qualname__ = arch
    entrypoint.__module__ = __name__
    entrypoint.__doc__ = f"{ARCHITECTURES[arch].description} (lkadv-largekernel). Tags: {_known_tags(arch)}."
    setattr(entrypoint, _MARK, True)
    return entrypoint


def register_timm_models(_timm: Any = None) -> list[str]:
    """Register every architecture and pretrained tag with timm (idempotent).

    Args:
        _timm: The timm module (passed by the post-import hook; unused).

    Returns:
        The architectures registered by this call.
    """
    import timm
    from timm.models import generate_default_cfgs, register_model

    global default_cfgs
    module = sys.modules[__name__]
    pending = []
    for arch in ARCHITECTURES:
        if timm.is_model(arch):
            existing = timm.models.model_entrypoint(arch)
            if not getattr(existing, _MARK, False):
                warnings.warn(
                    f"timm already has a model {arch!r} from {existing.__module__}; lkadv-largekernel leaves it",
                    stacklevel=2,
                )
            continue
        pending.append(arch)
    cfgs: dict[str, Any] = {w.name: pretrained_cfg_dict(w) for w in WEIGHTS.values() if w.arch in pending}
    default_cfgs = dict(generate_default_cfgs(cfgs))
    for arch in pending:
        fn = _entrypoint(arch)
        setattr(module, arch, fn)
        register_model(fn)
    return pending
