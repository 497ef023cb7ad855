"""Built-in plugin: native FGSM, PGD, one-pixel and worst-of; AutoAttack through its backend.

Also contributes the report sections about attacks: sanity flags and the
reduced-precision divergence. Registering imports neither torch nor a backend.
"""

from __future__ import annotations

from typing import Any

from lkadv import __version__
from lkadv.attacks._aa_config import SUB_ATTACKS, VERSIONS, backend
from lkadv.attacks._taig_spec import taig_spec
from lkadv.plugins._hookspecs import hookimpl
from lkadv.registries import Registry
from lkadv.specs import AttackSpec, Param

__all__ = ["lkadv_register_attacks", "lkadv_report_sections"]

_LOSS = Param(
    default="ce",
    type="str",
    choices=("ce", "margin", "dlr"),
    help="loss to ascend: cross-entropy, CW margin, or difference of logits ratio",
)


def _pgd_params() -> dict[str, Param]:
    return {
        "steps": Param(default=10, type="int", minimum=1, help="gradient steps per restart (0 would be no attack)"),
        "rel_step": Param(default=0.25, type="float", minimum=0.0, help="step size as a fraction of eps"),
        "step_size": Param(
            default=None, type="float", nullable=True, minimum=0.0, help="absolute step size (overrides rel_step)"
        ),
        "schedule": Param(
            default="fixed",
            type="str",
            choices=("fixed", "cosine", "apgd"),
            help="step size: fixed; cosine decay; or APGD's adaptive halving with momentum (starts at 2 eps)",
        ),
        "random_start": Param(default=True, type="bool", help="start from a random point of the ball"),
        "restarts": Param(default=1, type="int", minimum=1, help="independent runs, per-sample worst case kept"),
        "loss": _LOSS,
        "targeted": Param(
            default="none",
            type="str",
            choices=("none", "given", "random", "least-likely"),
            help="targeted mode: none, a given class (target=K), a random wrong class, or the least likely class",
        ),
        "target": Param(default=None, type="int", nullable=True, minimum=0, help="target class for targeted=given"),
        "early_stop": Param(default=True, type="bool", help="drop samples from the batch once they reach the goal"),
    }


def _autoattack_spec() -> AttackSpec:
    module, version = backend()

    def tune(default: Any, typ: str, text: str) -> Param:
        return Param(default=default, type=typ, nullable=True, minimum=1, help=f"custom version only: {text}")

    return AttackSpec(
        name="autoattack",
        norms=("linf", "l2", "l1"),
        factory="lkadv.attacks._autoattack:AutoAttack",
        params={
            "version": Param(
                default="standard", type="str", choices=VERSIONS, help="ensemble: standard, plus, rand or custom"
            ),
            "attacks": Param(
                default=None,
                type="str",
                nullable=True,
                help=f"custom version only: sub-attacks joined by '+', from {'/'.join(SUB_ATTACKS)}",
            ),
            "iterations": tune(None, "int", "APGD/FAB iterations (100)"),
            "restarts": tune(None, "int", "untargeted APGD/FAB restarts (5)"),
            "targets": tune(None, "int", "target classes of APGD-T/FAB-T (9)"),
            "queries": tune(None, "int", "Square queries (5000)"),
        },
        backend=module,
        backend_version=version,
        tags=frozenset({"white-box", "gradient", "ensemble", "reference"}),
        description="AutoAttack (Croce & Hein 2020), run by its backend sub-attack by sub-attack; resumable",
        short=("version",),
        expand="lkadv.attacks._aa_config:expand",
    )


@hookimpl
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register ``fgsm``, ``pgd``, ``apgd``, ``autoattack``, ``worst-of``, ``onepixel`` and ``taig``."""
    registry.register(
        AttackSpec(
            name="fgsm",
            norms=("linf", "l2"),
            factory="lkadv.attacks._fgsm:FGSM",
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
            params=_pgd_params(),
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"white-box", "gradient", "iterative"}),
            description="Projected gradient descent (Madry et al. 2018) with early stop; targeted modes, schedules",
            short=("steps",),
        )
    )
    apgd = _pgd_params()
    apgd["schedule"] = Param(default="apgd", type="str", choices=("fixed", "cosine", "apgd"), help="step size")
    apgd["loss"] = Param(default="dlr", type="str", choices=("ce", "margin", "dlr"), help="loss to ascend")
    apgd["steps"] = Param(default=100, type="int", minimum=1, help="gradient steps per restart (0 would be no attack)")
    registry.register(
        AttackSpec(
            name="apgd",
            norms=("linf", "l2", "l1"),
            factory="lkadv.attacks._pgd:PGD",
            params=apgd,
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"white-box", "gradient", "iterative"}),
            description="Native APGD-style PGD: adaptive step size, momentum, DLR loss, early stop",
            short=("steps", "loss"),
        )
    )
    registry.register(_autoattack_spec())
    registry.register(
        AttackSpec(
            name="worst-of",
            norms=("linf", "l2", "l1", "l0"),
            factory="lkadv.attacks._worst:WorstOf",
            params={
                "members": Param(
                    default="fgsm+pgd+pgd:loss=dlr",
                    type="str",
                    help="attacks joined by '+', each with ':param=value' settings, e.g. pgd:loss=dlr:steps=20",
                )
            },
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"ensemble"}),
            description="Per-sample worst case over several attacks, each on the samples still unbroken; resumable",
            composite=True,
        )
    )
    registry.register(
        AttackSpec(
            name="onepixel",
            norms=("l0",),
            factory="lkadv.attacks._onepixel:OnePixel",
            params={
                "popsize": Param(default=100, type="int", minimum=4, help="candidates per sample (Su et al.: 400)"),
                "iterations": Param(default=30, type="int", minimum=0, help="generations (Su et al.: 100)"),
                "chunk": Param(default=4096, type="int", minimum=1, help="images per forward pass"),
            },
            backend="lkadv",
            backend_version=__version__,
            tags=frozenset({"black-box", "l0", "evolutionary"}),
            description="One-pixel attack (Su et al. 2019): differential evolution, eps = pixels changed",
            short=("iterations",),
        )
    )
    registry.register(taig_spec())


@hookimpl
def lkadv_report_sections(summary: Any, ledger: Any) -> list[Any] | None:
    """Sanity flags and the reduced-precision divergence of the run's attack cells; transfer matrices."""
    from lkadv.attacks._report import precision_section, sanity_section
    from lkadv.metrics import transfer_sections

    sections = [sanity_section(summary, ledger), precision_section(summary, ledger)]
    return [s for s in sections if s is not None] + transfer_sections(summary, ledger)
