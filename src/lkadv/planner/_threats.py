"""Threats: clean, an attack at one eps, a transfer (attack crafted on a source model), or a corruption."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lkadv.types import ThreatKind

__all__ = ["Threat", "format_eps"]


def format_eps(eps: float) -> str:
    """``2/255`` when eps is a whole number of grey levels, else a short decimal."""
    levels = eps * 255
    if eps > 0 and abs(levels - round(levels)) < 1e-6:
        return f"{round(levels)}/255"
    return f"{eps:.6g}"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.8g}"
    if value is None:
        return "none"
    return str(value)


@dataclass(frozen=True)
class Threat:
    """What a cell does to the samples before scoring.

    Attributes:
        kind: ``"clean"``, ``"attack"``, ``"transfer"`` (an attack crafted on the
            model named by the config's ``source``) or ``"corruption"``.
        name: ``"clean"``, the attack name or the corruption name.
        config: The full resolved configuration, as sorted ``(key, value)`` pairs
            (for attacks: norm, every parameter, backend, precision, seed).
        eps: Attack radius in pixel units.
        severity: Corruption severity.
        variant: For a parameter sweep (``pgd.steps=10|50``), the swept values
            (``steps=50``), shown in the label so the columns stay distinct.
    """

    kind: ThreatKind
    name: str
    config: tuple[tuple[str, Any], ...] = ()
    eps: float | None = None
    severity: int | None = None
    variant: str = ""

    @classmethod
    def clean(cls) -> Threat:
        """The identity threat."""
        return cls("clean", "clean")

    @property
    def family(self) -> str:
        """Identity without eps/severity: threats of one family differ only in strength."""
        inner = ",".join(f"{k}={_fmt(v)}" for k, v in self.config)
        return f"{self.name}[{inner}]" if inner else self.name

    @property
    def id(self) -> str:
        """Full, canonical identity (stored in the ledger and shown in exports)."""
        if self.kind in ("attack", "transfer"):
            return f"{self.family}@eps={_fmt(self.eps)}"
        if self.kind == "corruption":
            return f"{self.family}@severity={self.severity}"
        return self.family

    @property
    def norm(self) -> str | None:
        """The attack norm, if any."""
        return dict(self.config).get("norm")

    @property
    def label(self) -> str:
        """Compact column label: ``clean``, ``pgd@2/255``, ``pgd-l2@0.5``, ``pgd(steps=50)@2/255``, ``fog@3``."""
        if self.kind in ("attack", "transfer"):
            norm = self.norm
            suffix = "" if norm in (None, "linf") else f"-{norm}"
            eps = self.eps or 0.0
            strength = f"{eps:g}" if norm == "l0" else format_eps(eps)  # l0: a number of pixels
            variant = f"({self.variant})" if self.variant else ""
            source = f" from {dict(self.config)['source']}" if self.kind == "transfer" else ""
            return f"{self.name}{suffix}{variant}@{strength}{source}"
        if self.kind == "corruption":
            return f"{self.name}@{self.severity}"
        return self.name

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "name": self.name,
            "config": dict(self.config),
            "eps": self.eps,
            "severity": self.severity,
            "id": self.id,
            "label": self.label,
        }
