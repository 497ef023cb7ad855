"""Built-in plugin: any timm model as ``timm:NAME[.TAG][options]``.

The spec is read from timm's ``pretrained_cfg`` (input size, mean/std,
interpolation, crop) without building the model; the weights load through
timm's usual path (Hugging Face Hub or URL, with timm's cache). Options in
brackets: ``pretrained=false`` (random init, seeded), ``file=PATH`` (a local
checkpoint, passed to timm as ``pretrained_cfg_overlay={'file': PATH}``).
Example: ``timm:convnext_base.fb_in22k_ft_in1k``, ``timm:test_vit[pretrained=false]``.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

from lkadv.config import parse_bool
from lkadv.errors import SelectionError, WeightsError
from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import ModelSpec

__all__ = ["create", "lkadv_register_models", "spec_for"]

_LABEL_SPACES = {1000: "imagenet-1k", 21843: "imagenet-22k", 21841: "imagenet-22k", 11821: "imagenet-21k-p"}
_OPTION = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<opts>[^\]]*)\])?$")


def _parse(rest: str) -> tuple[str, dict[str, str]]:
    match = _OPTION.match(rest.strip())
    if not match:
        raise SelectionError(f"cannot parse timm model {rest!r}; use timm:NAME[.TAG][pretrained=false,file=PATH]")
    opts: dict[str, str] = {}
    for item in filter(None, (match["opts"] or "").split(",")):
        key, sep, value = item.partition("=")
        if not sep or key.strip() not in ("pretrained", "file"):
            raise SelectionError(f"unknown timm option {item!r}; options are pretrained=BOOL and file=PATH")
        opts[key.strip()] = value.strip()
    return match["name"].strip(), opts


def _weights(name: str, arch: str, opts: dict[str, str], cfg: dict[str, Any]) -> tuple[str, bool, str | None]:
    """``(weights_id, pretrained, file)``: a local file (keyed on its sha256), timm's weights, or random init.

    Raises:
        SelectionError: If the named file does not exist.
    """
    pretrained = parse_bool(opts.get("pretrained", "true"), f"timm:{name} [pretrained=...]")
    file = opts.get("file")
    if file:
        path = Path(file).expanduser()
        if not path.is_file():
            raise SelectionError(f"timm:{name}: weights file {path} does not exist")
        from lkadv.downloads import sha256_file

        return f"sha256:{sha256_file(path)}", True, str(path.resolve())
    if pretrained:
        full = f"{arch}.{cfg.get('tag')}" if cfg.get("tag") else arch
        return f"timm:{full}:{cfg.get('hf_hub_id') or cfg.get('url') or 'unknown-source'}", True, None
    return "random-init:seed0", False, None


def spec_for(rest: str) -> ModelSpec:
    """Build a ModelSpec for ``timm:`` + ``rest`` from timm's pretrained config.

    Args:
        rest: ``NAME[.TAG]`` with optional ``[pretrained=...,file=...]``.

    Returns:
        The spec; its factory builds the model lazily.

    Raises:
        SelectionError: If timm has no such model or tag; the message names the closest ones.
    """
    import timm
    from timm.models import get_pretrained_cfg, split_model_name_tag

    name, opts = _parse(rest)
    arch, tag = split_model_name_tag(name)
    if not timm.is_model(arch):
        close = difflib.get_close_matches(arch, timm.list_models(), n=5, cutoff=0.6)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise SelectionError(f"timm has no model {arch!r}{hint}")
    try:
        cfg = get_pretrained_cfg(name, allow_unregistered=True)
    except RuntimeError as exc:
        tags = [n for n in timm.list_models(arch, pretrained=True) if n.startswith(arch + ".")]
        raise SelectionError(f"timm model {arch!r} has no tag {tag!r}; known: {', '.join(tags) or 'none'}") from exc
    cfg_d: dict[str, Any] = dict(vars(cfg)) if cfg is not None else {}
    weights_id, pretrained, file = _weights(name, arch, opts, cfg_d)
    num_classes = int(cfg_d.get("num_classes") or 1000)
    input_size = tuple(int(v) for v in cfg_d.get("input_size") or (3, 224, 224))
    crop_mode = cfg_d.get("crop_mode") or "center"
    return ModelSpec(
        name=f"timm:{rest.strip()}",
        family=arch.split("_")[0],
        factory=create,
        factory_kwargs={"name": name, "pretrained": pretrained, "file": file},
        label_space=_LABEL_SPACES.get(num_classes, f"timm-{num_classes}"),
        num_classes=num_classes,
        input_size=(input_size[0], input_size[1], input_size[2]),
        mean=tuple(float(v) for v in cfg_d.get("mean") or (0.485, 0.456, 0.406)),
        std=tuple(float(v) for v in cfg_d.get("std") or (0.229, 0.224, 0.225)),
        interpolation=cfg_d.get("interpolation") or "bilinear",
        crop_pct=float(cfg_d.get("crop_pct") or 0.875),
        crop_mode=crop_mode if crop_mode in ("center", "squash") else "center",
        tags=frozenset({"timm"}),
        weights_id=weights_id,
        description=f"timm {name}",
        source=cfg_d.get("hf_hub_id") or cfg_d.get("url") or "timm",
    )


def create(name: str, pretrained: bool, file: str | None) -> Any:
    """Create a timm model (the factory behind ``timm:`` specs).

    Raises:
        WeightsError: If pretrained weights cannot be fetched or loaded.
    """
    import timm
    import torch

    from lkadv.models._checkpoints import check_checkpoint_file  # imports torch: only when building

    overlay = {"file": file} if file else None
    if file:
        check_checkpoint_file(Path(file))  # a web page or a truncated file: a clear message, not timm's
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # random-init models must be the same in every run
            return timm.create_model(name, pretrained=pretrained, pretrained_cfg_overlay=overlay)
    except Exception as exc:  # timm, torch.load and safetensors raise many types for a bad file
        if not pretrained:
            raise
        raise WeightsError(
            f"cannot load pretrained weights of timm model {name!r}: {type(exc).__name__}: {exc}. "
            f"Offline? Pass a local file with timm:{name}[file=PATH]."
        ) from exc


@hookimpl
def lkadv_register_models(registry: Registry[ModelSpec]) -> None:
    """Register the ``timm:`` resolver."""
    registry.register_resolver("timm", spec_for)
