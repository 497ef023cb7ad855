"""The engine's options: parsed once by the driver, handed to every unit that attacks.

Folding and lanes tune how native attacks compute, never what they compute, so
they do not enter a cell's identity. They are parsed once (by
:func:`lkadv.config.load_options`, from ``LKADV_FOLD_BN`` and ``LKADV_CPU_LANES``)
into a frozen :class:`EngineOptions` that the executor installs around each unit
with :func:`use_engine`; a worker in another process or on another machine is
handed the same object and never reads its own environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["EngineOptions", "engine_options", "use_engine"]


@dataclass(frozen=True)
class EngineOptions:
    """How the engine computes gradients (not what it computes).

    Attributes:
        fold_bn: Differentiate a BatchNorm-folded copy of each Classifier.
        cpu_lanes: Lanes a CPU gradient pass is split into (None: one per torch
            thread; 1: no split).
    """

    fold_bn: bool = True
    cpu_lanes: int | None = None

    def __post_init__(self) -> None:
        if self.cpu_lanes is not None and self.cpu_lanes < 1:
            raise ValueError(f"cpu_lanes must be a positive whole number or None, got {self.cpu_lanes}")


_DEFAULT = EngineOptions()
_current: ContextVar[EngineOptions | None] = ContextVar("lkadv_engine_options", default=None)


def engine_options() -> EngineOptions:
    """The options in force here (the defaults outside :func:`use_engine`)."""
    return _current.get() or _DEFAULT


@contextmanager
def use_engine(options: EngineOptions) -> Iterator[EngineOptions]:
    """Within the block (this thread and context), the engine computes with ``options``."""
    token = _current.set(options)
    try:
        yield options
    finally:
        _current.reset(token)
