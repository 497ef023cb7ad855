"""The corruption contract: a batched, seeded, device-local image degradation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lkadv.specs._common import check, check_factory, check_name

if TYPE_CHECKING:
    import torch

__all__ = ["CorruptionFn", "CorruptionSpec"]


class CorruptionFn(Protocol):
    """``fn(x, severity, generator) -> x'``.

    ``x`` is float NCHW in [0, 1] with 1 or 3 channels at any resolution; the
    result has the same shape, dtype and device, lies in [0, 1], and depends
    only on ``x``, ``severity`` and the generator's state.
    """

    def __call__(self, x: torch.Tensor, severity: int, generator: torch.Generator) -> torch.Tensor:
        """Return the corrupted batch."""
        ...


@dataclass(frozen=True, kw_only=True)
class CorruptionSpec:
    """A registered corruption.

    Attributes:
        name: Registry name (``"gaussian_noise"``...).
        fn: Callable (or ``module:attribute``) implementing :class:`CorruptionFn`.
        severities: Valid severities, usually 1..5.
        category: ``"noise"``, ``"blur"``, ``"weather"``, ``"digital"`` or ``"extra"``.
        standard: Whether it is one of the 15 corruptions averaged into mCE.
        random: Whether it draws from the generator (else deterministic).
        tags: Selector tags.
        description: One line for listings.
        version: Implementation version, part of every cell key.
    """

    name: str
    fn: Callable[..., Any] | str
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    category: str = "extra"
    standard: bool = False
    random: bool = False
    tags: frozenset[str] = frozenset()
    description: str = ""
    version: str = "1"

    def validate(self) -> None:
        """Check every field against the contract.

        Raises:
            SpecError: Naming the spec and the offending field.
        """
        kind, n = "CorruptionSpec", self.name
        check_name(kind, n)
        check_factory(kind, n, self.fn, "fn")
        check(
            bool(self.severities) and all(isinstance(s, int) and s >= 1 for s in self.severities),
            kind,
            n,
            "severities",
            f"must be positive ints, got {self.severities!r}",
        )
        check(isinstance(self.tags, frozenset), kind, n, "tags", "must be a frozenset of strings")

    def describe(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "severities": list(self.severities),
            "category": self.category,
            "standard": self.standard,
            "random": self.random,
            "tags": sorted(self.tags),
            "description": self.description,
            "version": self.version,
        }
