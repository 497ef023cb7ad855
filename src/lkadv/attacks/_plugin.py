"""Built-in plugin: native FGSM and PGD."""

from __future__ import annotations

from lkadv import __version__
from lkadv.plugins._hookspecs import hookimpl
from lkadv.registries import Registry
from lkadv.specs import AttackSpec, Param

__all__ = ["lkadv_register_attacks"]

_LOSS = Param(default="ce", type="str", choices=("ce", "margin"), help="loss to ascend: cross-entropy or CW margin")


@hookimpl
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register ``fgsm`` and ``pgd``."""
    registry.register(
        AttackSpec(
            name="fgsm",
            norms=("linf", "l2"),
            factory="lkadv.attacks._pgd:FGSM",
            params={"loss": _LOSS},
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"white-box", "gradient", "single-step"}),
            description="Fast gradient sign method (Goodfellow et al. 2015), untargeted",
        )
    )
    registry.register(
        AttackSpec(
            name="pgd",
            norms=("linf", "l2", "l1"),
            factory="lkadv.attacks._pgd:PGD",
            params={
                "steps": Param(default=10, type="int", minimum=0, help="gradient steps per restart"),
                "rel_step": Param(default=0.25, type="float", minimum=0.0, help="step size as a fraction of eps"),
                "step_size": Param(
                    default=None,
                    type="float",
                    nullable=True,
                    minimum=0.0,
                    help="absolute step size (overrides rel_step)",
                ),
                "random_start": Param(default=True, type="bool", help="start from a random point of the ball"),
                "restarts": Param(default=1, type="int", minimum=1, help="independent runs, worst case kept"),
                "loss": _LOSS,
                "early_stop": Param(default=True, type="bool", help="drop samples from the batch once misclassified"),
            },
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"white-box", "gradient", "iterative"}),
            description="Projected gradient descent (Madry et al. 2018), untargeted, with early stop",
            short=("steps",),
        )
    )
