"""The exceptions lkadv raises on purpose.

Every user-facing failure derives from :class:`LkadvError` and carries a message
that names what is wrong and how to fix it; the CLI maps them to exit statuses.
"""

from __future__ import annotations

import signal

__all__ = [
    "AttackContractError",
    "ConfigError",
    "DataError",
    "LkadvError",
    "ModelContractError",
    "PluginError",
    "RunInterrupted",
    "SelectionError",
    "SpecError",
    "StoreError",
    "WeightsError",
    "describe",
]


class LkadvError(Exception):
    """Base class of lkadv's deliberate errors.

    Attributes:
        exit_code: Process exit status the CLI uses for this error.
    """

    exit_code: int = 1


class ConfigError(LkadvError):
    """A setting (flag, environment variable or config file entry) is invalid."""

    exit_code = 2


class SelectionError(ConfigError):
    """A selector names nothing, or names something that does not exist."""


class SpecError(LkadvError):
    """A plugin registered a spec that breaks its contract."""


class PluginError(LkadvError):
    """A plugin failed to load or register (fatal only in strict mode)."""


class DataError(LkadvError):
    """A dataset root, file or sample is missing or malformed."""

    exit_code = 2


class WeightsError(LkadvError):
    """A checkpoint is missing, corrupt, unsafe or does not fit its model."""

    exit_code = 2


class ModelContractError(LkadvError):
    """A model breaks the Classifier contract (e.g. re-parameterization changed its logits)."""


class AttackContractError(LkadvError):
    """An attack returned an example outside its norm ball or outside [0, 1]."""


class StoreError(LkadvError):
    """The run directory or its ledger cannot be used (a wrong --run-dir or report argument)."""

    exit_code = 2


def describe(exc: BaseException) -> str:
    """A one-line account of an error for a cell's record: lkadv's own message, or the type and message."""
    if isinstance(exc, LkadvError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by a signal (SIGTERM, a cluster's preemption): handled like Ctrl-C.

    Attributes:
        signum: The signal.
        exit_code: ``128 + signum`` (143 for SIGTERM), the shell's convention.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum

    @property
    def signal_name(self) -> str:
        """``SIGTERM``, ``SIGHUP``..."""
        return signal.Signals(self.signum).name
