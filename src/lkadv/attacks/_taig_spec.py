"""The ``taig`` attack's registration: parameters and defaults of the authors' released code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lkadv import __version__
from lkadv.specs import AttackSpec, Param

__all__ = ["taig_reach", "taig_spec"]


def taig_spec() -> AttackSpec:
    """TAIG-S / TAIG-R / the study's approximate TAIG-R (imports no torch)."""
    return AttackSpec(
        name="taig",
        norms=("linf",),
        factory="lkadv.attacks._taig:TAIG",
        params={
            "variant": Param(
                default="s",
                type="str",
                choices=("s", "r", "r-approx"),
                help="path: s straight line; r random turning points; r-approx U(-eps,eps) on each point (LKRobust)",
            ),
            "iterations": Param(default=20, type="int", minimum=1, help="sign steps"),
            "path_steps": Param(default=20, type="int", minimum=1, help="Riemann steps of the integrated gradient"),
            "step_size": Param(default=1 / 255, type="float", minimum=0.0, help="step in pixel units (1/255)"),
            "turning_points": Param(default=20, type="int", minimum=1, help="segments of the r path"),
            "tau": Param(
                default=None, type="float", nullable=True, minimum=0.0, help="noise half-width of r/r-approx (eps)"
            ),
        },
        backend="lkadv",
        backend_version=__version__,
        tags=frozenset({"white-box", "gradient", "iterative", "transfer"}),
        description="TAIG (Huang & Kong 2022): BIM along the sign of an integrated gradient; a transfer source",
        short=("variant",),
    )


def taig_reach(config: Mapping[str, Any]) -> float:
    """How far from the clean image a TAIG configuration can move a pixel: iterations x step size."""
    return float(config["iterations"]) * float(config["step_size"])
