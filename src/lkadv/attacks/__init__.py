"""Native attacks (FGSM, PGD, one-pixel), the AutoAttack wrapper, worst-of ensembles and the gradient-masking probe."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.attacks._autoattack import AutoAttack
    from lkadv.attacks._fgsm import FGSM
    from lkadv.attacks._members import build_attack, parse_members, resolve_members, stages_of
    from lkadv.attacks._onepixel import OnePixel
    from lkadv.attacks._pgd import APGD, PGD
    from lkadv.attacks._sanity import probe_model
    from lkadv.attacks._taig import TAIG, integrated_gradient, path_points
    from lkadv.attacks._taig_spec import taig_reach
    from lkadv.attacks._worst import WorstOf, run_sequential, stage_generator

__all__ = [
    "APGD",
    "FGSM",
    "PGD",
    "TAIG",
    "AutoAttack",
    "OnePixel",
    "WorstOf",
    "build_attack",
    "parse_members",
    "integrated_gradient",
    "path_points",
    "probe_model",
    "resolve_members",
    "run_sequential",
    "stage_generator",
    "stages_of",
    "taig_reach",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "AutoAttack": "lkadv.attacks._autoattack",
        "FGSM": "lkadv.attacks._fgsm",
        "build_attack": "lkadv.attacks._members",
        "parse_members": "lkadv.attacks._members",
        "resolve_members": "lkadv.attacks._members",
        "stages_of": "lkadv.attacks._members",
        "OnePixel": "lkadv.attacks._onepixel",
        "APGD": "lkadv.attacks._pgd",
        "PGD": "lkadv.attacks._pgd",
        "TAIG": "lkadv.attacks._taig",
        "integrated_gradient": "lkadv.attacks._taig",
        "path_points": "lkadv.attacks._taig",
        "WorstOf": "lkadv.attacks._worst",
        "probe_model": "lkadv.attacks._sanity",
        "run_sequential": "lkadv.attacks._worst",
        "stage_generator": "lkadv.attacks._worst",
        "taig_reach": "lkadv.attacks._taig_spec",
    },
)
