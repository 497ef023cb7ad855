"""Building the networks and loading official checkpoints into them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lkadv.errors import WeightsError
from lkadv.models import load_into, read_state_dict, state_dict_misfit
from lkadv.types import resolve
from lkadv_largekernel._catalog import ARCHITECTURES, WEIGHTS, WeightsEntry
from lkadv_largekernel._weights import obtain_weights

__all__ = ["build", "load_official", "load_pretrained"]

# Keys that only exist in re-parameterized (deploy) checkpoints: the merged large kernel of
# RepLKNet and SLaK, and UniRepLKNet's depthwise conv and last FFN layer once BatchNorms are folded.
_DEPLOY_MARKERS = ("lkb_reparam.", ".dwconv.lk_origin.bias", ".pwconv2.0.bias")
# The merged layouts a deploy checkpoint may have, tried in this order: the official one, then
# lkadv's own. Only RepLKNet's differ (the official merge keeps every BatchNorm outside the
# large-kernel branches; lkadv folds them too); each step merges further, in place.
_DEPLOY_FORMS = (("official deploy", "to_official_deploy"), ("fully merged", "reparameterize"))


def build(arch: str, **kwargs: Any) -> nn.Module:
    """Build an architecture variant with random weights, in its training-time (unmerged) form.

    Args:
        arch: Architecture name (``replknet_31b``, ``slak_tiny``, ``unireplknet_a``...).
        **kwargs: Overrides of the variant's builder arguments (``num_classes``, ``in_chans``,
            ``drop_path_rate``, or any layout argument).

    Returns:
        The network.

    Raises:
        KeyError: If the architecture is unknown (the message lists the known ones).
    """
    info = ARCHITECTURES.get(arch)
    if info is None:
        raise KeyError(f"unknown large-kernel architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    cls: Callable[..., nn.Module] = resolve(info.builder)
    network: nn.Module = cls(**{**info.kwargs, **kwargs})
    return network


def load_official(model: nn.Module, path: Path, entry: WeightsEntry | None = None) -> nn.Module:
    """Load a checkpoint strictly, training-time or deploy form, explaining what was expected when it does not fit.

    A training-time (unmerged) checkpoint loads into the model as built. A re-parameterized
    (deploy) checkpoint, recognised by its keys, is loaded by first converting the model in
    place to the merged layout the file has: the official one (``to_official_deploy()``:
    RepLKNet's large kernels merged with every other BatchNorm kept, SLaK's and UniRepLKNet's
    deploy forms), else lkadv's fully merged one (``reparameterize()``). Either way the
    network computes the same function as the unmerged one, and ``reparameterize()`` still
    merges what is left, so lkadv's merge check runs on it as on any other network. (The
    check cannot verify the merge stored in the file, whose branches are gone.)

    Args:
        model: A freshly built network of the right architecture, in its training-time form.
        path: The checkpoint (``.pth``/``.pt`` read with ``weights_only=True``, or ``.safetensors``;
            a ``model``/``state_dict`` wrapper is unwrapped).
        entry: The official file it should be, for the error message.

    Returns:
        The model, loaded (the same object; converted in place for a deploy checkpoint).

    Raises:
        WeightsError: If the file is an HTML page, truncated, unsafe, or its keys or shapes do
            not match the architecture in any of its forms (a model left converted half-way
            by a failed deploy load must be rebuilt).
    """
    expected = (
        f"expected the official {entry.filename} of {entry.name} ({ARCHITECTURES[entry.arch].description})"
        if entry is not None
        else f"expected a {type(model).__name__} checkpoint"
    )
    try:
        return load_into(model, path)
    except WeightsError as exc:
        if "does not fit" not in str(exc):
            raise WeightsError(f"{exc} ({expected}.)") from exc
        unmerged_error = exc
    # Read again only on this path: the usual (unmerged) file costs one read.
    state = read_state_dict(path)
    hint = _head_hint(model, state)
    if not any(marker in key for key in state for marker in _DEPLOY_MARKERS):
        raise WeightsError(f"{unmerged_error} ({expected}.){hint}") from unmerged_error
    misfits: list[str] = []
    for label, method in _DEPLOY_FORMS:
        convert = getattr(model, method, None)
        if not callable(convert):
            continue
        convert()
        misfit = _misfit(model, state)
        if not misfit:
            own = model.state_dict()
            for key in set(own) - set(state):  # only optional counters are missing here
                state[key] = own[key]
            model.load_state_dict(state, strict=True)
            return model
        misfits.append(f"{label}: {misfit}")
    detail = "; ".join(misfits) or f"{type(model).__name__} has no merged form"
    raise WeightsError(
        f"checkpoint {path} holds re-parameterized (deploy) weights that do not fit {type(model).__name__} "
        f"in any merged layout ({detail}) ({expected}).{hint}"
    )


def _misfit(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """What keeps ``state`` from loading strictly into ``model`` (empty when it fits)."""
    return ", ".join(state_dict_misfit(model, state))


def _head_hint(model: nn.Module, state: dict[str, torch.Tensor]) -> str:
    """Advice when the file's classifier has another class count than the model's (e.g. a 22K file)."""
    head = getattr(model, "head", None)
    weight = state.get("head.weight")
    if not isinstance(head, nn.Linear) or weight is None or weight.ndim != 2 or weight.shape[0] == head.out_features:
        return ""
    n = int(weight.shape[0])
    return (
        f" The file's classifier has {n} classes and the model's {head.out_features}: build the model with "
        f"num_classes={n} (build(arch, num_classes={n}), or timm.create_model(..., num_classes={n}))."
    )


def load_pretrained(weights: str, file: str | None = None) -> nn.Module:
    """Build the network of an official weights entry and load the file (the lkadv spec factory).

    Args:
        weights: Registry name, e.g. ``replknet_31b.in22k_ft_in1k``.
        file: A local checkpoint to use instead of looking up the official file.

    Returns:
        The network in eval mode, expecting normalized input: unmerged, or in the merged layout
        of a deploy checkpoint (see :func:`load_official`).

    Raises:
        WeightsError: If the weights cannot be found, downloaded or loaded; the message names
            the file, where it was looked for, the settings and the official sources.
    """
    entry = WEIGHTS[weights]
    path = Path(file).expanduser() if file else obtain_weights(entry)
    model = build(entry.arch, num_classes=entry.num_classes)
    return load_official(model, path, entry).eval()
