"""AutoAttack's ensembles, written out (no torch import: used while planning and listing).

"AutoAttack" means different ensembles in different libraries and versions, so
the threat identity of an AutoAttack cell carries the exact list of
sub-attacks with their iterations, restarts, target counts and queries. The
values mirror pyautoattack's ``AutoAttack._set_version`` (and the constructor
defaults for ``version="custom"``); the wrapper checks the backend object
against them at run time, so a backend release that changes a default fails
loudly instead of silently running another ensemble.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
from dataclasses import dataclass
from typing import Any

from lkadv.attacks._params import AA_SUB_ATTACKS, AA_VERSIONS
from lkadv.errors import ConfigError

__all__ = ["SubAttack", "backend", "ensemble", "expand", "format_ensemble"]
_MODULES = ("pyautoattack", "autoattack")


@dataclass(frozen=True)
class SubAttack:
    """One attack of an AutoAttack ensemble, fully configured.

    Attributes:
        name: ``apgd-ce``, ``apgd-dlr``, ``fab``, ``square``, ``apgd-t`` or ``fab-t``.
        iterations: Iterations (APGD, FAB).
        restarts: Restarts (APGD, FAB).
        targets: Target classes tried (targeted attacks; 0 otherwise).
        queries: Queries (Square).
        eot: Expectation-over-transformation iterations (APGD).
        largereps: APGD's L1 eps schedule (3, 2, 1 x eps).
    """

    name: str
    iterations: int = 0
    restarts: int = 0
    targets: int = 0
    queries: int = 0
    eot: int = 1
    largereps: bool = False

    def label(self) -> str:
        """``apgd-t(iter=100,restarts=1,targets=9)``."""
        if self.name == "square":
            return f"square(queries={self.queries},p_init=0.8)"
        parts = [f"iter={self.iterations}", f"restarts={self.restarts}"]
        if self.targets:
            parts.append(f"targets={self.targets}")
        if self.eot != 1:
            parts.append(f"eot={self.eot}")
        if self.largereps:
            parts.append("largereps")
        return f"{self.name}({','.join(parts)})"


def backend() -> tuple[str, str]:
    """``(module, version)`` of the AutoAttack implementation used: pyautoattack first, else upstream ``autoattack``.

    Looks the modules up without importing them. ``("pyautoattack", "missing")``
    when neither is installed.
    """
    for module in _MODULES:
        if importlib.util.find_spec(module) is not None:
            try:
                version = md.version(module)
            except md.PackageNotFoundError:
                version = "unknown"
            return module, version
    return "pyautoattack", "missing"


def _parse_list(text: str) -> list[str]:
    names = [a.strip().lower() for a in text.replace("+", ",").split(",") if a.strip()]
    unknown = [a for a in names if a not in AA_SUB_ATTACKS]
    if unknown:
        raise ConfigError(f"AutoAttack has no attack(s) {unknown}; choose from {list(AA_SUB_ATTACKS)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"AutoAttack attacks list {names} repeats an attack")
    return names


def ensemble(
    version: str,
    norm: str,
    attacks: str | None = None,
    iterations: int | None = None,
    restarts: int | None = None,
    targets: int | None = None,
    queries: int | None = None,
) -> list[SubAttack]:
    """The exact sub-attacks a version runs, in order.

    Args:
        version: ``standard``, ``plus``, ``rand`` or ``custom``.
        norm: ``linf``, ``l2`` or ``l1``.
        attacks: For ``custom``: the attack names, comma- or ``+``-separated.
        iterations: For ``custom``: APGD/FAB iterations (default 100).
        restarts: For ``custom``: untargeted APGD/FAB restarts (default 5).
        targets: For ``custom``: target classes of APGD-T and FAB-T (default 9).
        queries: For ``custom``: Square queries (default 5000).

    Raises:
        ConfigError: On an unknown version or attack, a custom setting given to a
            fixed version, or a custom version without attacks.
    """
    if version not in AA_VERSIONS:
        raise ConfigError(f"AutoAttack version must be one of {list(AA_VERSIONS)}, got {version!r}")
    tuning = {
        "attacks": attacks,
        "iterations": iterations,
        "restarts": restarts,
        "targets": targets,
        "queries": queries,
    }
    if version != "custom":
        given = sorted(k for k, v in tuning.items() if v not in (None, ""))
        if given:
            raise ConfigError(
                f"AutoAttack version={version} fixes its ensemble; {given} can only be set with version=custom"
            )
    if version == "custom":
        return _custom(attacks, iterations, restarts, targets, queries)
    return _fixed(version, norm)


def _fixed(version: str, norm: str) -> list[SubAttack]:
    """The published ensembles (pyautoattack's, including its L1 settings for ``standard``)."""
    if version == "standard":
        if norm == "l1":
            return [
                SubAttack("apgd-ce", 100, 5, largereps=True),
                SubAttack("apgd-t", 100, 1, targets=5, largereps=True),
                SubAttack("fab-t", 100, 1, targets=9),
                SubAttack("square", queries=5000),
            ]
        return [
            SubAttack("apgd-ce", 100, 1),
            SubAttack("apgd-t", 100, 1, targets=9),
            SubAttack("fab-t", 100, 1, targets=9),
            SubAttack("square", queries=5000),
        ]
    if version == "plus":
        return [
            SubAttack("apgd-ce", 100, 5),
            SubAttack("apgd-dlr", 100, 5),
            SubAttack("fab", 100, 5),
            SubAttack("square", queries=5000),
            SubAttack("apgd-t", 100, 1, targets=9),
            SubAttack("fab-t", 100, 1, targets=9),
        ]
    return [SubAttack("apgd-ce", 100, 1, eot=20), SubAttack("apgd-dlr", 100, 1, eot=20)]  # rand


def _custom(
    attacks: str | None, iterations: int | None, restarts: int | None, targets: int | None, queries: int | None
) -> list[SubAttack]:
    names = _parse_list(attacks or "")
    if not names:
        raise ConfigError("AutoAttack version=custom needs attacks=..., e.g. attacks=apgd-ce+apgd-t")
    it = 100 if iterations is None else iterations
    rs = 5 if restarts is None else restarts
    tg = 9 if targets is None else targets
    qs = 5000 if queries is None else queries
    out = []
    for name in names:
        if name == "square":
            out.append(SubAttack("square", queries=qs))
        elif name in ("apgd-t", "fab-t"):
            out.append(SubAttack(name, it, 1, targets=tg))
        else:
            out.append(SubAttack(name, it, rs))
    return out


def format_ensemble(subs: list[SubAttack]) -> str:
    """``apgd-ce(iter=100,restarts=1)+apgd-t(...)+...``."""
    return "+".join(s.label() for s in subs)


def expand(config: dict[str, Any]) -> dict[str, Any]:
    """The ``expand`` hook of the ``autoattack`` spec: adds the exact ``ensemble``."""
    subs = ensemble(
        config["version"],
        config["norm"],
        config.get("attacks"),
        config.get("iterations"),
        config.get("restarts"),
        config.get("targets"),
        config.get("queries"),
    )
    return {"ensemble": format_ensemble(subs)}
