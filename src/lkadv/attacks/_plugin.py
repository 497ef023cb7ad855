"""Built-in plugin: native FGSM, PGD, one-pixel and worst-of; AutoAttack through its backend.

Also contributes the report sections about attacks: sanity flags and the
reduced-precision divergence. Registering imports neither torch nor a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lkadv._version import __version__
from lkadv.attacks._aa_config import backend
from lkadv.attacks._params import (
    APGD_PARAMS,
    AUTOATTACK_PARAMS,
    FGSM_PARAMS,
    ONEPIXEL_PARAMS,
    PGD_PARAMS,
    WORST_OF_PARAMS,
)
from lkadv.attacks._taig_spec import taig_spec
from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import AttackSpec, Param

if TYPE_CHECKING:
    from lkadv.metrics import ReportSection, Summary
    from lkadv.store import Ledger

__all__ = ["lkadv_register_attacks", "lkadv_report_sections"]


def _autoattack_spec() -> AttackSpec:
    module, version = backend()
    return AttackSpec(
        name="autoattack",
        norms=("linf", "l2", "l1"),
        factory="lkadv.attacks._autoattack:AutoAttack",
        params=dict(AUTOATTACK_PARAMS),
        backend=module,
        backend_version=version,
        tags=frozenset({"white-box", "gradient", "ensemble", "reference"}),
        description="AutoAttack (Croce & Hein 2020), run by its backend sub-attack by sub-attack; resumable",
        short=("version",),
        expand="lkadv.attacks._aa_config:expand",
    )


def _native(name: str, norms: tuple[str, ...], factory: str, params: Mapping[str, Param], **more: Any) -> AttackSpec:
    """A spec of an attack lkadv implements (its parameter table is the class's ``PARAMS``)."""
    return AttackSpec(
        name=name,
        norms=norms,
        factory=f"lkadv.attacks.{factory}",
        params=dict(params),
        backend="lkadv",
        backend_version=__version__,
        **more,
    )


def _native_specs() -> list[AttackSpec]:
    iterative = frozenset({"white-box", "gradient", "iterative"})
    return [
        _native(
            "fgsm",
            ("linf", "l2"),
            "_fgsm:FGSM",
            FGSM_PARAMS,
            tags=frozenset({"white-box", "gradient", "single-step"}),
            description="Fast gradient sign method (Goodfellow et al. 2015), untargeted",
        ),
        _native(
            "pgd",
            ("linf", "l2", "l1"),
            "_pgd:PGD",
            PGD_PARAMS,
            tags=iterative,
            description="Projected gradient descent (Madry et al. 2018) with early stop; targeted modes, schedules",
            short=("steps",),
        ),
        _native(
            "apgd",
            ("linf", "l2", "l1"),
            "_pgd:APGD",
            APGD_PARAMS,
            tags=iterative,
            description="Native APGD-style PGD: adaptive step size, momentum, DLR loss, early stop",
            short=("steps", "loss"),
        ),
        _native(
            "worst-of",
            ("linf", "l2", "l1", "l0"),
            "_worst:WorstOf",
            WORST_OF_PARAMS,
            tags=frozenset({"ensemble"}),
            description="Per-sample worst case over several attacks, each on the samples still unbroken; resumable",
            composite=True,
        ),
        _native(
            "onepixel",
            ("l0",),
            "_onepixel:OnePixel",
            ONEPIXEL_PARAMS,
            tags=frozenset({"black-box", "l0", "evolutionary"}),
            description="One-pixel attack (Su et al. 2019): differential evolution, eps = pixels changed",
            short=("iterations",),
        ),
    ]


@hookimpl
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register ``fgsm``, ``pgd``, ``apgd``, ``autoattack``, ``worst-of``, ``onepixel`` and ``taig``."""
    native = _native_specs()
    for spec in [*native[:3], _autoattack_spec(), *native[3:], taig_spec()]:  # the listing order users know
        registry.register(spec)


@hookimpl
def lkadv_report_sections(summary: Summary, ledger: Ledger) -> list[ReportSection] | None:
    """Sanity flags and the reduced-precision divergence of the run's attack cells; transfer matrices."""
    from lkadv.attacks._report import precision_section, sanity_section
    from lkadv.metrics import transfer_sections

    sections = [sanity_section(summary, ledger), precision_section(summary, ledger)]
    return [s for s in sections if s is not None] + transfer_sections(summary, ledger)
