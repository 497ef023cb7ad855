"""Building an attack from its configuration, composite (worst-of) members included.

Members are written ``pgd:loss=dlr:steps=20+fgsm+pgd:targeted=least-likely``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from lkadv.errors import ConfigError
from lkadv.specs import AttackFn, AttackSpec
from lkadv.types import resolve

__all__ = ["build_attack", "parse_members", "resolve_members", "stages_of"]


def parse_members(text: str) -> list[tuple[str, dict[str, str]]]:
    """Split a members string into ``(attack name, parameter overrides)``.

    Members are joined by ``+``; a member's parameters follow its name, each as
    ``:param=value``.

    Raises:
        ConfigError: On an empty list or a malformed member.
    """
    members = []
    for chunk in str(text).split("+"):
        chunk = chunk.strip()
        if not chunk:
            continue
        name, *params = chunk.split(":")
        overrides: dict[str, str] = {}
        for item in params:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"member {chunk!r}: {item!r} is not param=value (e.g. pgd:loss=dlr:steps=20)")
            overrides[key.strip()] = value.strip()
        members.append((name.strip(), overrides))
    if not members:
        raise ConfigError("a worst-of attack needs members, e.g. members=pgd+pgd:loss=dlr+fgsm")
    return members


def resolve_members(
    text: str, norm: str, get_spec: Callable[[str], AttackSpec]
) -> list[tuple[AttackSpec, dict[str, Any]]]:
    """Each member's spec and full configuration at the composite's ``norm``.

    Args:
        text: The ``members`` parameter.
        norm: The composite attack's norm; every member runs under it.
        get_spec: Looks an attack spec up by name (raising on unknown names).

    Raises:
        ConfigError: On a member that is composite itself, lacks the norm, or has bad parameters.
    """
    out = []
    for name, overrides in parse_members(text):
        spec = get_spec(name)
        if spec.composite:
            raise ConfigError(f"member {name!r} is itself a composite attack; list its members directly")
        if "norm" in overrides and overrides["norm"] != norm:
            raise ConfigError(f"member {name!r} asks for norm {overrides['norm']!r}, but the ensemble runs at {norm!r}")
        if norm not in spec.norms:
            raise ConfigError(
                f"member {name!r} does not support the ensemble's norm {norm!r} (it has {list(spec.norms)})"
            )
        try:
            config = spec.resolve({**overrides, "norm": norm})
        except ConfigError as exc:
            raise ConfigError(f"member {name!r}: {exc}") from exc
        out.append((spec, config))
    return out


def _params(spec: AttackSpec, config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k in spec.params or k == "norm"}


def build_attack(spec: AttackSpec, config: Mapping[str, Any], get_spec: Callable[[str], AttackSpec]) -> AttackFn:
    """The attack callable for a resolved configuration; a composite's members are built first.

    Args:
        spec: The attack's spec.
        config: Its resolved configuration (a threat's config; extra keys are ignored).
        get_spec: Looks a member's spec up by name.
    """
    params = _params(spec, config)
    if spec.composite:
        members = resolve_members(config["members"], config["norm"], get_spec)
        params["members"] = [(m.name, resolve(m.factory)(**_params(m, c))) for m, c in members]
    attack: AttackFn = resolve(spec.factory)(**params)
    return attack


def stages_of(attack: AttackFn, name: str) -> list[tuple[str, AttackFn]]:
    """An attack's stages: its ``stages`` attribute (AutoAttack, worst-of), else ``[(name, attack)]``."""
    stages = getattr(attack, "stages", None)
    return list(stages) if stages else [(name, attack)]
