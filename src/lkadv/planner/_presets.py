"""Attack presets: a study's whole attack protocol by name (``-a preset:lkrobust``).

A registry preset only names attacks; a study also fixes their settings, an
eps grid per attack and the subset. ``preset:NAME`` terms of the attack
selector are expanded here before planning: the attacks join the selector,
the settings go under the run's own ``--attack-param`` values (which win), each
attack gets the preset's eps grid unless ``--eps`` is given, and without
``--limit``/``--subset`` the subset is the preset's number of images per class.
The run records the options as given, so a resumed run expands them the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lkadv.config import RunOptions

__all__ = ["ATTACK_PRESETS", "AttackPreset", "expand_attack_presets"]


@dataclass(frozen=True)
class AttackPreset:
    """A study's attack protocol.

    Attributes:
        attacks: Attack selector.
        params: Settings by attack name.
        eps: Radius grid by attack name.
        per_class: Images per class of the subset (None: the dataset's default).
        description: One line for listings.
    """

    attacks: str
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    eps: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    per_class: int | None = None
    description: str = ""


ATTACK_PRESETS: dict[str, AttackPreset] = {
    "lkrobust": AttackPreset(
        attacks="fgsm,pgd,taig",
        params={
            "fgsm": {"loss": "ce"},
            "pgd": {"steps": 5, "rel_step": 0.25, "random_start": True, "restarts": 1, "loss": "ce"},
            "taig": {"variant": "r-approx", "iterations": 20, "path_steps": 20, "step_size": 1 / 255},
        },
        eps={
            "fgsm": (0.1, 0.2, 0.3, 0.4),
            "pgd": (0.002, 0.004, 0.006, 0.008),
            "taig": (8 / 255, 16 / 255),
        },
        per_class=5,
        description="LKRobust (Chen et al. 2024): FGSM 0.1-0.4; PGD-5, step eps/4, random start, 0.002-0.008; "
        "TAIG (its released approximate TAIG-R) 8/255 and 16/255; 5 images per class",
    ),
}
"""Attack presets by name."""


def expand_attack_presets(options: RunOptions) -> tuple[RunOptions, dict[str, tuple[float, ...]], int | None]:
    """Options with ``preset:NAME`` attack terms expanded.

    Returns:
        ``(options, eps by attack, images per class)``; unchanged options, ``{}``
        and None when the selector names no attack preset.
    """
    if options.attacks is None:
        return options, {}, None
    terms: list[str] = []
    defaults: dict[str, Any] = dict(options.attack_defaults)
    grids: dict[str, tuple[float, ...]] = {}
    per_class: int | None = None
    for term in (t.strip() for t in options.attacks.split(",")):
        preset = ATTACK_PRESETS.get(term[len("preset:") :]) if term.startswith("preset:") else None
        if preset is None:
            terms.append(term)
            continue
        terms.append(preset.attacks)
        for name, params in preset.params.items():
            defaults[name] = {**params, **(defaults.get(name) or {})}
        grids.update(preset.eps)
        per_class = preset.per_class if per_class is None else per_class
    if not grids:
        return options, {}, None
    return replace(options, attacks=",".join(terms), attack_defaults=defaults), grids, per_class
