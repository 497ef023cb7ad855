"""Native attacks and the core's check of every adversarial example."""

from typing import TYPE_CHECKING

from lkadv._lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.attacks._check import check_adversarial
    from lkadv.attacks._norms import perturbation_norm, project
    from lkadv.attacks._pgd import FGSM, PGD

__all__ = ["FGSM", "PGD", "check_adversarial", "perturbation_norm", "project"]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "FGSM": "lkadv.attacks._pgd",
        "PGD": "lkadv.attacks._pgd",
        "check_adversarial": "lkadv.attacks._check",
        "perturbation_norm": "lkadv.attacks._norms",
        "project": "lkadv.attacks._norms",
    },
)
