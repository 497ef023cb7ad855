"""Building each model once to learn what it really is, before any cell is looked up.

A cell's key takes the digest of the weights and code actually loaded (see
:mod:`lkadv.models._identity`), so a changed checkpoint behind an unchanged
name never reuses a stale result. The network built here is handed to the
executor, so a model is still built once per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from lkadv.models._identity import identify_network
from lkadv.specs import ModelSpec
from lkadv.types import resolve

__all__ = ["Identified", "identify_models"]


@dataclass
class Identified:
    """What building a model gave.

    Attributes:
        material: What goes into its cells' keys (digests, or the build error).
        error: Why it could not be built, or None.
        network: The built, unmerged network until an executor takes it.
    """

    material: dict[str, Any]
    error: str | None = None
    network: nn.Module | None = None


def _identify(spec: ModelSpec) -> Identified:
    try:
        factory = resolve(spec.factory)
        network = factory(**spec.factory_kwargs)
        if not isinstance(network, nn.Module):
            raise TypeError(f"its factory returned {type(network).__name__}, not an nn.Module")
        identity = identify_network(network, factory)
    except Exception as exc:  # plugin code: its failure fails this model's cells only
        error = f"model {spec.name!r} could not be built: {type(exc).__name__}: {exc}"
        return Identified({"error": error}, error=error)
    return Identified(identity.as_dict(), network=network.eval())


def identify_models(models: Sequence[ModelSpec]) -> dict[str, Identified]:
    """Build every model once (on the CPU, unmerged) and digest its weights and code."""
    return {spec.name: _identify(spec) for spec in models}
