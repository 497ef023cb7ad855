"""What a plugin can add to ``lkadv doctor``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DoctorCheck"]


@dataclass(frozen=True)
class DoctorCheck:
    """One row of ``lkadv doctor``.

    Attributes:
        section: Group heading (``"weights"``, ``"datasets"``...).
        name: What was checked.
        status: ``"ok"``, ``"missing"``, ``"warn"`` or ``"error"``.
        detail: Where it was found, or how to fix it.
    """

    section: str
    name: str
    status: str
    detail: str = ""
