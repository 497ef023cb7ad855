"""Registering the architectures with timm, so ``timm.create_model('replknet_31b')`` works.

Every architecture becomes a timm entrypoint, and every official weights entry a
pretrained tag (``replknet_31b.in22k_ft_in1k``) whose config carries the input
size, mean/std, interpolation and crop. ``pretrained=True`` loads the official
file through this plugin's weights lookup (local folders, caches, downloads),
and ``pretrained_cfg_overlay={'file': PATH}`` loads a local file instead, so
lkadv's ``timm:replknet_31b[file=PATH]`` works too.

Registration uses timm's public ``register_model`` and ``generate_default_cfgs``.
It is idempotent: an architecture that timm already knows from this plugin is
skipped, and a name another package registered first is left alone (with a warning)
unless ``replace=True``. A module that registers one of these names *later*, as the
official ``unireplknet.py`` does with ``@register_model``, replaces the entrypoint;
that is warned about when it happens (see :func:`register_timm_models`).
"""

from __future__ import annotations

import contextlib
import functools
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
# Marks timm's register_model once wrapped by _guard_registrations (so it is wrapped once).
_GUARD_MARK = "_lkadv_largekernel_guard"

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
        if file:
            # A given file is what loads, whatever the tag (the default one included) says: its
            # class count may differ (a 22K file needs num_classes=21841), and load_official
            # checks the head against the file itself. The tag's official file is not expected.
            load_official(model, Path(file).expanduser())
        else:
            if entry is None:
                raise RuntimeError(f"{arch} has no pretrained tag {tag!r}; known: {_known_tags(arch)}")
            num_classes = getattr(model, "num_classes", None)
            if num_classes != entry.num_classes:
                raise ValueError(
                    f"{arch}.{tag} has {entry.num_classes} classes; load it with the default head, "
                    f"then call model.reset_classifier({num_classes})"
                )
            load_official(model, obtain_weights(entry), entry)
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


def _replaced_message(arch: str, module: str) -> str:
    return (
        f"{module}.{arch} replaced lkadv-largekernel's timm model {arch!r}: timm.create_model({arch!r}, "
        "pretrained=True) now builds that module's network, which may ignore pretrained=True and return "
        "random weights (the official unireplknet.py does: its entrypoints take in_1k_pretrained=... and "
        "pass other arguments on unread). lkadv model names without 'timm:' (e.g. "
        f"{arch}.in1k) do not go through timm and are not affected. To take the name back, call "
        "lkadv_largekernel.register_timm_models(replace=True) after that import."
    )


def _guard_registrations() -> None:
    """Wrap timm's ``register_model`` to warn when another module replaces one of our entrypoints.

    Imported after this package, the official ``unireplknet.py`` registers timm models with
    our names; timm then silently builds its networks (timm's own notice, where the
    installed version has one, does not say what is lost: the pretrained weights). The
    wrapper calls timm's function unchanged and adds that warning. It is installed in every
    timm namespace that exposes ``register_model`` (``timm.models``, ``timm.models._registry``
    and, if imported, the deprecated ``timm.models.registry``, which re-exports
    ``_registry``'s when imported later), so each import style sees it; code that bound the
    original earlier is not seen.
    """
    import timm.models
    from timm.models import _registry

    original = _registry.register_model
    if getattr(original, _GUARD_MARK, False):
        return

    @functools.wraps(original)
    def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
        name = getattr(fn, "__name__", "")
        try:
            previous = timm.models.model_entrypoint(name) if name and timm.is_model(name) else None
        except Exception:  # this check must never break another package's registration
            previous = None
        if not (getattr(previous, _MARK, False) and not getattr(fn, _MARK, False)):
            return original(fn)
        with warnings.catch_warnings():
            # Ours says what timm's generic notice says, and what is lost; one warning is enough.
            warnings.filterwarnings("ignore", message="Overwriting ", category=UserWarning)
            result = original(fn)
        # stacklevel 2: the line that registered (the decorator in the other module).
        warnings.warn(_replaced_message(name, getattr(fn, "__module__", "?")), UserWarning, stacklevel=2)
        return result

    setattr(register_model, _GUARD_MARK, True)
    _registry.register_model = register_model
    timm.models.register_model = register_model
    legacy = sys.modules.get("timm.models.registry")
    if legacy is not None:
        legacy.register_model = register_model  # type: ignore[attr-defined]


def register_timm_models(_timm: Any = None, *, replace: bool = False) -> list[str]:
    """Register every architecture and pretrained tag with timm (idempotent).

    Also makes timm warn when a module registered later replaces one of these entrypoints.

    Args:
        _timm: The timm module (passed by the post-import hook; unused).
        replace: Take back names that another module registered (e.g. the official
            ``unireplknet.py``); by default they are left to it, with a warning.

    Returns:
        The architectures registered by this call.
    """
    import timm
    from timm.models import generate_default_cfgs

    _guard_registrations()
    from timm.models import register_model

    global default_cfgs
    module = sys.modules[__name__]
    pending = []
    for arch in ARCHITECTURES:
        if timm.is_model(arch):
            existing = timm.models.model_entrypoint(arch)
            if getattr(existing, _MARK, False):
                continue
            if not replace:
                warnings.warn(
                    f"timm already has a model {arch!r} from {existing.__module__}; lkadv-largekernel leaves it, "
                    f"so timm.create_model({arch!r}) builds that module's network (pretrained=True may be "
                    "ignored there). Call lkadv_largekernel.register_timm_models(replace=True) to take it.",
                    stacklevel=2,
                )
                continue
        pending.append(arch)
    cfgs: dict[str, Any] = {w.name: pretrained_cfg_dict(w) for w in WEIGHTS.values() if w.arch in pending}
    default_cfgs = dict(generate_default_cfgs(cfgs))
    with warnings.catch_warnings():
        # Replacing on request: timm's notice about overwriting a name is expected here.
        warnings.filterwarnings("ignore", message="Overwriting ", category=UserWarning)
        for arch in pending:
            fn = _entrypoint(arch)
            setattr(module, arch, fn)
            register_model(fn)
    return pending
