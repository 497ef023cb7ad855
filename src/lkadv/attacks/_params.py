"""The built-in attacks' parameters, declared once: the specs and the attack classes both read these tables.

This module imports no torch, so registering the attacks stays cheap; each
attack class names its table in ``PARAMS`` and takes its keyword arguments
through :func:`bind`, so a parameter's name, default and check exist here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lkadv.errors import ConfigError
from lkadv.specs import Param

__all__ = [
    "AA_SUB_ATTACKS",
    "AA_VERSIONS",
    "APGD_PARAMS",
    "AUTOATTACK_PARAMS",
    "FGSM_PARAMS",
    "LOSS_NAMES",
    "ONEPIXEL_PARAMS",
    "PGD_PARAMS",
    "SCHEDULES",
    "TAIG_PARAMS",
    "TAIG_VARIANTS",
    "TARGET_MODES",
    "WORST_OF_PARAMS",
    "bind",
]

LOSS_NAMES = ("ce", "margin", "dlr")
SCHEDULES = ("fixed", "cosine", "apgd")
TARGET_MODES = ("none", "given", "random", "least-likely")

_LOSS_HELP = "loss to ascend: cross-entropy, CW margin, or difference of logits ratio"
_STEPS_HELP = "gradient steps per restart (0 would be no attack)"
_SCHEDULE_HELP = "step size: fixed; cosine decay; or APGD's adaptive halving with momentum (starts at 2 eps)"

FGSM_PARAMS: Mapping[str, Param] = {"loss": Param(default="ce", type="str", choices=LOSS_NAMES, help=_LOSS_HELP)}

PGD_PARAMS: Mapping[str, Param] = {
    "steps": Param(default=10, type="int", minimum=1, help=_STEPS_HELP),
    "rel_step": Param(default=0.25, type="float", minimum=0.0, help="step size as a fraction of eps"),
    "step_size": Param(
        default=None, type="float", nullable=True, minimum=0.0, help="absolute step size (overrides rel_step)"
    ),
    "schedule": Param(default="fixed", type="str", choices=SCHEDULES, help=_SCHEDULE_HELP),
    "random_start": Param(default=True, type="bool", help="start from a random point of the ball"),
    "restarts": Param(default=1, type="int", minimum=1, help="independent runs, per-sample worst case kept"),
    "loss": FGSM_PARAMS["loss"],
    "targeted": Param(
        default="none",
        type="str",
        choices=TARGET_MODES,
        help="targeted mode: none, a given class (target=K), a random wrong class, or the least likely class",
    ),
    "target": Param(default=None, type="int", nullable=True, minimum=0, help="target class for targeted=given"),
    "early_stop": Param(default=True, type="bool", help="drop samples from the batch once they reach the goal"),
}

APGD_PARAMS: Mapping[str, Param] = {
    **PGD_PARAMS,
    "steps": Param(default=100, type="int", minimum=1, help=_STEPS_HELP),
    "schedule": Param(default="apgd", type="str", choices=SCHEDULES, help=_SCHEDULE_HELP),
    "loss": Param(default="dlr", type="str", choices=LOSS_NAMES, help=_LOSS_HELP),
}

ONEPIXEL_PARAMS: Mapping[str, Param] = {
    "popsize": Param(default=100, type="int", minimum=4, help="candidates per sample (Su et al.: 400)"),
    "iterations": Param(default=30, type="int", minimum=0, help="generations (Su et al.: 100)"),
    "chunk": Param(default=4096, type="int", minimum=1, help="images per forward pass"),
}

AA_VERSIONS = ("standard", "plus", "rand", "custom")
AA_SUB_ATTACKS = ("apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t")


def _tune(text: str) -> Param:
    return Param(default=None, type="int", nullable=True, minimum=1, help=f"custom version only: {text}")


AUTOATTACK_PARAMS: Mapping[str, Param] = {
    "version": Param(
        default="standard", type="str", choices=AA_VERSIONS, help="ensemble: standard, plus, rand or custom"
    ),
    "attacks": Param(
        default=None,
        type="str",
        nullable=True,
        help=f"custom version only: sub-attacks joined by '+', from {'/'.join(AA_SUB_ATTACKS)}",
    ),
    "iterations": _tune("APGD/FAB iterations (100)"),
    "restarts": _tune("untargeted APGD/FAB restarts (5)"),
    "targets": _tune("target classes of APGD-T/FAB-T (9)"),
    "queries": _tune("Square queries (5000)"),
}

TAIG_VARIANTS = ("s", "r", "r-approx")

TAIG_PARAMS: Mapping[str, Param] = {
    "variant": Param(
        default="s",
        type="str",
        choices=TAIG_VARIANTS,
        help="path: s straight line; r random turning points; r-approx U(-eps,eps) on each point (LKRobust)",
    ),
    "iterations": Param(default=20, type="int", minimum=1, help="sign steps"),
    "path_steps": Param(default=20, type="int", minimum=1, help="Riemann steps of the integrated gradient"),
    "step_size": Param(default=1 / 255, type="float", minimum=0.0, help="step in pixel units (1/255)"),
    "turning_points": Param(default=20, type="int", minimum=1, help="segments of the r path"),
    "tau": Param(default=None, type="float", nullable=True, minimum=0.0, help="noise half-width of r/r-approx (eps)"),
}

WORST_OF_PARAMS: Mapping[str, Param] = {
    "members": Param(
        default="fgsm+pgd+pgd:loss=dlr",
        type="str",
        help="attacks joined by '+', each with ':param=value' settings, e.g. pgd:loss=dlr:steps=20",
    )
}


def bind(attack: str, table: Mapping[str, Param], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter of ``table``: the given values (checked) over the defaults.

    Raises:
        ConfigError: On a parameter the table does not declare, or a bad value.
    """
    unknown = sorted(set(given) - set(table))
    if unknown:
        raise ConfigError(f"attack {attack!r} has no parameter(s) {unknown}; it takes {sorted(table)}")
    return {name: param.parse(name, given.get(name, param.default)) for name, param in table.items()}
