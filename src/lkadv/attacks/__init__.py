"""Native attacks, the AutoAttack wrapper, and the core's check of every adversarial example."""

from typing import TYPE_CHECKING

from lkadv._lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.attacks._autoattack import AutoAttack
    from lkadv.attacks._check import check_adversarial
    from lkadv.attacks._fgsm import FGSM
    from lkadv.attacks._freeze import input_gradients_only
    from lkadv.attacks._norms import perturbation_norm, project
    from lkadv.attacks._onepixel import OnePixel
    from lkadv.attacks._pgd import PGD
    from lkadv.attacks._sanity import probe_model
    from lkadv.attacks._taig import TAIG, integrated_gradient, path_points
    from lkadv.attacks._taig_spec import taig_reach
    from lkadv.attacks._worst import WorstOf, run_sequential

__all__ = [
    "FGSM",
    "PGD",
    "TAIG",
    "AutoAttack",
    "OnePixel",
    "WorstOf",
    "check_adversarial",
    "input_gradients_only",
    "integrated_gradient",
    "path_points",
    "perturbation_norm",
    "probe_model",
    "project",
    "run_sequential",
    "taig_reach",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "AutoAttack": "lkadv.attacks._autoattack",
        "FGSM": "lkadv.attacks._fgsm",
        "OnePixel": "lkadv.attacks._onepixel",
        "PGD": "lkadv.attacks._pgd",
        "TAIG": "lkadv.attacks._taig",
        "integrated_gradient": "lkadv.attacks._taig",
        "path_points": "lkadv.attacks._taig",
        "WorstOf": "lkadv.attacks._worst",
        "check_adversarial": "lkadv.attacks._check",
        "input_gradients_only": "lkadv.attacks._freeze",
        "perturbation_norm": "lkadv.attacks._norms",
        "probe_model": "lkadv.attacks._sanity",
        "project": "lkadv.attacks._norms",
        "run_sequential": "lkadv.attacks._worst",
        "taig_reach": "lkadv.attacks._taig_spec",
    },
)
