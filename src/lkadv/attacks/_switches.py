"""The attack engine's environment switches, read and checked in one place.

``LKADV_FOLD_BN`` (1/0) and ``LKADV_CPU_LANES`` (a positive whole number) tune
how native attacks compute, never what they compute, so they are variables
rather than run options (they do not enter a cell's identity). A run checks
them before it writes anything.
"""

from __future__ import annotations

import os

from lkadv.errors import ConfigError

__all__ = ["check_switches", "fold_enabled", "requested_lanes"]


def fold_enabled() -> bool:
    """Whether attacks may differentiate a BatchNorm-folded copy (``LKADV_FOLD_BN``, default 1).

    Raises:
        ConfigError: If the variable is set to anything but 0 or 1.
    """
    value = os.environ.get("LKADV_FOLD_BN", "1").strip()
    if value not in ("0", "1"):
        raise ConfigError(f"LKADV_FOLD_BN must be 1 (fold, the default) or 0 (attack the model as is), got {value!r}")
    return value == "1"


def requested_lanes() -> int | None:
    """The lane count ``LKADV_CPU_LANES`` asks for, or None (one lane per torch thread).

    Raises:
        ConfigError: If the variable is set to anything but a positive whole number.
    """
    value = os.environ.get("LKADV_CPU_LANES", "").strip()
    if not value:
        return None
    if not (value.isdigit() and int(value) > 0):
        raise ConfigError(f"LKADV_CPU_LANES must be a positive whole number (1 turns lanes off), got {value!r}")
    return int(value)


def check_switches() -> None:
    """Raise ConfigError now for a bad switch, rather than at a run's first attack."""
    fold_enabled()
    requested_lanes()
