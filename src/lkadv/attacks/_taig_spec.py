"""The ``taig`` attack's registration: parameters and defaults of the authors' released code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lkadv._version import __version__
from lkadv.attacks._params import TAIG_PARAMS
from lkadv.specs import AttackSpec

__all__ = ["taig_reach", "taig_spec"]


def taig_spec() -> AttackSpec:
    """TAIG-S / TAIG-R / the study's approximate TAIG-R (imports no torch)."""
    return AttackSpec(
        name="taig",
        norms=("linf",),
        factory="lkadv.attacks._taig:TAIG",
        params=dict(TAIG_PARAMS),
        backend="lkadv",
        backend_version=__version__,
        tags=frozenset({"white-box", "gradient", "iterative", "transfer"}),
        description="TAIG (Huang & Kong 2022): BIM along the sign of an integrated gradient; a transfer source",
        short=("variant",),
    )


def taig_reach(config: Mapping[str, Any]) -> float:
    """How far from the clean image a TAIG configuration can move a pixel: iterations x step size."""
    return float(config["iterations"]) * float(config["step_size"])
