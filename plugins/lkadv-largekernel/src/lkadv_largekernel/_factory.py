"""Building the networks and loading official checkpoints into them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from lkadv._imports import resolve
from lkadv.errors import WeightsError
from lkadv.models import load_into, read_state_dict
from lkadv_largekernel._catalog import ARCHITECTURES, WEIGHTS, WeightsEntry
from lkadv_largekernel._weights import obtain_weights

__all__ = ["build", "load_official", "load_pretrained"]

# Keys that only exist in re-parameterized (deploy) checkpoints of the three families.
_DEPLOY_MARKERS = ("lkb_reparam", "dwconv.lk_origin.bias")


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
    cls = resolve(info.builder)
    network: nn.Module = cls(**{**info.kwargs, **kwargs})
    return network


def load_official(model: nn.Module, path: Path, entry: WeightsEntry | None = None) -> nn.Module:
    """Load a checkpoint strictly, explaining what was expected when it does not fit.

    Args:
        model: A freshly built network of the right architecture.
        path: The checkpoint (``.pth``/``.pt`` read with ``weights_only=True``, or ``.safetensors``;
            a ``model``/``state_dict`` wrapper is unwrapped).
        entry: The official file it should be, for the error message.

    Returns:
        The model, loaded.

    Raises:
        WeightsError: If the file is an HTML page, truncated, unsafe, or its keys or shapes do
            not match the architecture.
    """
    try:
        return load_into(model, path)
    except WeightsError as exc:
        expected = (
            f"expected the official {entry.filename} of {entry.name} ({ARCHITECTURES[entry.arch].description})"
            if entry is not None
            else f"expected an unmerged {type(model).__name__} checkpoint"
        )
        hint = ""
        if "does not fit" in str(exc):
            keys = read_state_dict(path)
            if any(marker in k for k in keys for marker in _DEPLOY_MARKERS):
                hint = (
                    " The file holds re-parameterized (deploy) weights; lkadv needs the training-time "
                    "checkpoint, which it merges itself after checking the merge."
                )
        raise WeightsError(f"{exc} ({expected}.){hint}") from exc


def load_pretrained(weights: str, file: str | None = None) -> nn.Module:
    """Build the network of an official weights entry and load the file (the lkadv spec factory).

    Args:
        weights: Registry name, e.g. ``replknet_31b.in22k_ft_in1k``.
        file: A local checkpoint to use instead of looking up the official file.

    Returns:
        The unmerged network in eval mode, expecting normalized input.

    Raises:
        WeightsError: If the weights cannot be found, downloaded or loaded; the message names
            the file, where it was looked for, the settings and the official sources.
    """
    entry = WEIGHTS[weights]
    path = Path(file).expanduser() if file else obtain_weights(entry)
    model = build(entry.arch, num_classes=entry.num_classes)
    return load_official(model, path, entry).eval()
