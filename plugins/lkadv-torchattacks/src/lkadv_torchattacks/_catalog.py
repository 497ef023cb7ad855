"""The torchattacks attacks lkadv exposes, and how each becomes an eps-bounded threat.

This module imports neither torch nor torchattacks: registering and listing
stay cheap. Parameter names and defaults are torchattacks' own (``alpha`` is an
absolute step in pixel units, as in torchattacks); ``eps`` always comes from
the lkadv threat, in pixel units, because lkadv's Classifier normalizes inside
the model and torchattacks is never told about normalization.

Three kinds of attack:

- ``bounded``: torchattacks projects onto the eps ball itself (PGD, MI-FGSM,
  Square, its AutoAttack, ...). lkadv's core still checks every result.
- ``min-norm``: CW and DeepFool search for the smallest perturbation and have
  no eps. As an eps-bounded threat, an example whose perturbation is larger
  than eps does not count: the adapter returns the clean image for it (so it
  is scored as not fooled), never a clipped version of it, and records how many
  it reverted.
- ``pixels``: OnePixel changes ``pixels`` pixels; under the ``l0`` threat the
  adapter sets ``pixels = int(eps)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from lkadv.specs import Param

__all__ = ["CATALOG", "Entry", "make_attack"]

_ALPHA = Param(default=2 / 255, type="float", minimum=0.0, help="step size in pixel units (torchattacks' default)")
_STEPS = Param(default=10, type="int", minimum=1, help="iterations")
_DECAY = Param(default=1.0, type="float", minimum=0.0, help="momentum decay")
_SEED_NOTE = "random draws are seeded from lkadv's generator"


@dataclass(frozen=True)
class Entry:
    """One torchattacks attack as an lkadv attack.

    Attributes:
        name: lkadv name (``ta-`` + torchattacks' name in lower case).
        cls: torchattacks class name.
        norms: Threat norms it supports (first: default).
        params: Its parameters (torchattacks' names and defaults), eps excluded.
        kind: ``bounded``, ``min-norm`` or ``pixels`` (see the module docstring).
        takes_norm: The class takes ``norm="Linf"|"L2"``.
        takes_seed: The class takes a ``seed`` argument.
        three_channels: The class only works on 3-channel images (TI-FGSM's kernel).
        description: One line for listings.
        tags: Selector tags.
    """

    name: str
    cls: str
    norms: tuple[str, ...]
    params: dict[str, Param] = field(default_factory=dict)
    kind: str = "bounded"
    takes_norm: bool = False
    takes_seed: bool = False
    three_channels: bool = False
    description: str = ""
    tags: frozenset[str] = frozenset({"torchattacks"})


def _e(name: str, cls: str, norms: tuple[str, ...], params: dict[str, Param], description: str, **kw: Any) -> Entry:
    tags = frozenset({"torchattacks", *kw.pop("tags", ())})
    return Entry(name, cls, norms, params, description=description, tags=tags, **kw)


CATALOG: tuple[Entry, ...] = (
    _e("ta-fgsm", "FGSM", ("linf",), {}, "torchattacks FGSM", tags={"white-box", "single-step"}),
    _e(
        "ta-pgd",
        "PGD",
        ("linf",),
        {"alpha": _ALPHA, "steps": _STEPS, "random_start": Param(default=True, type="bool", help="random start")},
        "torchattacks PGD (L-inf)",
        tags={"white-box"},
    ),
    _e(
        "ta-pgdl2",
        "PGDL2",
        ("l2",),
        {
            "alpha": Param(default=0.2, type="float", minimum=0.0, help="step size"),
            "steps": _STEPS,
            "random_start": Param(default=True, type="bool", help="random start"),
        },
        "torchattacks PGD (L2)",
        tags={"white-box"},
    ),
    _e(
        "ta-mifgsm",
        "MIFGSM",
        ("linf",),
        {"alpha": _ALPHA, "steps": _STEPS, "decay": _DECAY},
        "momentum iterative FGSM (Dong et al. 2018)",
        tags={"white-box", "transfer"},
    ),
    _e(
        "ta-tifgsm",
        "TIFGSM",
        ("linf",),
        {
            "alpha": _ALPHA,
            "steps": _STEPS,
            "decay": Param(default=0.0, type="float", minimum=0.0, help="momentum decay"),
            "len_kernel": Param(default=15, type="int", minimum=1, help="translation kernel size"),
            "nsig": Param(default=3.0, type="float", minimum=0.0, help="kernel sigma range"),
            "resize_rate": Param(default=0.9, type="float", minimum=0.0, help="input diversity resize rate"),
            "diversity_prob": Param(default=0.5, type="float", minimum=0.0, help="input diversity probability"),
            "random_start": Param(default=False, type="bool", help="random start"),
        },
        "translation-invariant FGSM (Dong et al. 2019); grey images are lifted to 3 channels",
        three_channels=True,
        tags={"white-box", "transfer"},
    ),
    _e(
        "ta-difgsm",
        "DIFGSM",
        ("linf",),
        {
            "alpha": _ALPHA,
            "steps": _STEPS,
            "decay": Param(default=0.0, type="float", minimum=0.0, help="momentum decay"),
            "resize_rate": Param(default=0.9, type="float", minimum=0.0, help="input diversity resize rate"),
            "diversity_prob": Param(default=0.5, type="float", minimum=0.0, help="input diversity probability"),
            "random_start": Param(default=False, type="bool", help="random start"),
        },
        "diverse-input FGSM (Xie et al. 2019)",
        tags={"white-box", "transfer"},
    ),
    _e(
        "ta-eotpgd",
        "EOTPGD",
        ("linf",),
        {
            "alpha": _ALPHA,
            "steps": _STEPS,
            "eot_iter": Param(default=2, type="int", minimum=1, help="gradient samples per step"),
            "random_start": Param(default=True, type="bool", help="random start"),
        },
        "PGD with expectation over transformation",
        tags={"white-box"},
    ),
    _e(
        "ta-vmifgsm",
        "VMIFGSM",
        ("linf",),
        {
            "alpha": _ALPHA,
            "steps": _STEPS,
            "decay": _DECAY,
            "N": Param(default=5, type="int", minimum=1, help="neighbourhood samples"),
            "beta": Param(default=1.5, type="float", minimum=0.0, help="neighbourhood radius factor"),
        },
        "variance-tuned MI-FGSM (Wang & He 2021)",
        tags={"white-box", "transfer"},
    ),
    _e(
        "ta-nifgsm",
        "NIFGSM",
        ("linf",),
        {"alpha": _ALPHA, "steps": _STEPS, "decay": _DECAY},
        "Nesterov iterative FGSM (Lin et al. 2020)",
        tags={"white-box", "transfer"},
    ),
    _e(
        "ta-jitter",
        "Jitter",
        ("linf",),
        {
            "alpha": _ALPHA,
            "steps": _STEPS,
            "scale": Param(default=10.0, type="float", minimum=0.0, help="logit scale"),
            "std": Param(default=0.1, type="float", minimum=0.0, help="jitter noise std"),
            "random_start": Param(default=True, type="bool", help="random start"),
        },
        "Jitter attack (Schwinn et al. 2021)",
        tags={"white-box"},
    ),
    _e(
        "ta-apgd",
        "APGD",
        ("linf", "l2"),
        {
            "steps": _STEPS,
            "n_restarts": Param(default=1, type="int", minimum=1, help="restarts"),
            "loss": Param(default="ce", type="str", choices=("ce", "dlr"), help="loss"),
            "eot_iter": Param(default=1, type="int", minimum=1, help="EOT iterations"),
            "rho": Param(default=0.75, type="float", minimum=0.0, help="step-size decrease threshold"),
        },
        f"torchattacks APGD ({_SEED_NOTE})",
        takes_norm=True,
        takes_seed=True,
        tags={"white-box"},
    ),
    _e(
        "ta-apgdt",
        "APGDT",
        ("linf", "l2"),
        {
            "steps": _STEPS,
            "n_restarts": Param(default=1, type="int", minimum=1, help="restarts"),
            "eot_iter": Param(default=1, type="int", minimum=1, help="EOT iterations"),
            "rho": Param(default=0.75, type="float", minimum=0.0, help="step-size decrease threshold"),
            "n_classes": Param(default=10, type="int", minimum=2, help="classes; targets = n_classes - 1"),
        },
        f"torchattacks targeted APGD ({_SEED_NOTE})",
        takes_norm=True,
        takes_seed=True,
        tags={"white-box"},
    ),
    _e(
        "ta-fab",
        "FAB",
        ("linf", "l2"),
        {
            "steps": _STEPS,
            "n_restarts": Param(default=1, type="int", minimum=1, help="restarts"),
            "alpha_max": Param(default=0.1, type="float", minimum=0.0, help="FAB alpha_max"),
            "eta": Param(default=1.05, type="float", minimum=0.0, help="FAB eta"),
            "beta": Param(default=0.9, type="float", minimum=0.0, help="FAB beta"),
            "multi_targeted": Param(default=False, type="bool", help="targeted over n_classes - 1 classes"),
            "n_classes": Param(default=10, type="int", minimum=2, help="classes"),
        },
        f"torchattacks FAB ({_SEED_NOTE})",
        takes_norm=True,
        takes_seed=True,
        tags={"white-box", "min-norm"},
    ),
    _e(
        "ta-square",
        "Square",
        ("linf", "l2"),
        {
            "n_queries": Param(default=5000, type="int", minimum=1, help="query budget"),
            "n_restarts": Param(default=1, type="int", minimum=1, help="restarts"),
            "p_init": Param(default=0.8, type="float", minimum=0.0, help="initial square size fraction"),
            "loss": Param(default="margin", type="str", choices=("margin", "ce"), help="loss"),
            "resc_schedule": Param(default=True, type="bool", help="rescale the schedule to n_queries"),
        },
        f"Square attack (Andriushchenko et al. 2020), black box ({_SEED_NOTE})",
        takes_norm=True,
        takes_seed=True,
        tags={"black-box"},
    ),
    _e(
        "ta-autoattack",
        "AutoAttack",
        ("linf", "l2"),
        {
            "version": Param(default="standard", type="str", choices=("standard", "plus", "rand"), help="version"),
            "n_classes": Param(
                default=10, type="int", minimum=2, help="classes; torchattacks tries n_classes - 1 targets"
            ),
        },
        "torchattacks' re-implementation of AutoAttack (not the reference; see lkadv's autoattack)",
        takes_norm=True,
        takes_seed=True,
        tags={"white-box", "ensemble"},
    ),
    _e(
        "ta-cw",
        "CW",
        ("l2",),
        {
            "c": Param(default=1.0, type="float", minimum=0.0, help="loss trade-off"),
            "kappa": Param(default=0.0, type="float", minimum=0.0, help="confidence"),
            "steps": Param(default=50, type="int", minimum=1, help="Adam steps"),
            "lr": Param(default=0.01, type="float", minimum=0.0, help="Adam learning rate"),
        },
        "Carlini-Wagner L2 (minimum norm): examples beyond eps do not count",
        kind="min-norm",
        tags={"white-box", "min-norm"},
    ),
    _e(
        "ta-deepfool",
        "DeepFool",
        ("l2",),
        {
            "steps": Param(default=50, type="int", minimum=1, help="iterations"),
            "overshoot": Param(default=0.02, type="float", minimum=0.0, help="overshoot"),
        },
        "DeepFool (minimum norm, L2): examples beyond eps do not count",
        kind="min-norm",
        tags={"white-box", "min-norm"},
    ),
    _e(
        "ta-onepixel",
        "OnePixel",
        ("l0",),
        {
            "steps": Param(default=10, type="int", minimum=1, help="differential evolution iterations"),
            "popsize": Param(default=10, type="int", minimum=1, help="population multiplier"),
            "inf_batch": Param(default=128, type="int", minimum=1, help="inference batch"),
        },
        "one-pixel attack via scipy differential evolution, per image (eps = pixels)",
        kind="pixels",
        tags={"black-box", "l0"},
    ),
)


def make_attack(name: str, **config: Any) -> Any:
    """Factory of one catalog entry (imports torch and torchattacks only now)."""
    from lkadv_torchattacks._adapter import TorchAttack

    entry = next(e for e in CATALOG if e.name == name)
    return TorchAttack(entry, **config)


def factory(name: str) -> Any:
    """``make_attack`` bound to one entry: the factory its AttackSpec registers."""
    return functools.partial(make_attack, name)
