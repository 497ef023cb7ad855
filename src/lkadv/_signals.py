"""SIGTERM handled like Ctrl-C while a run computes, so finished work is kept and the run marked."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

from lkadv.errors import RunInterrupted

__all__ = ["terminate_as_interrupt"]


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`RunInterrupted`, so finished work is kept and the run marked.

    Only in the main thread (signal handlers cannot be set elsewhere); the previous
    handler comes back afterwards.
    """

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise RunInterrupted(signum)

    try:
        previous = signal.signal(signal.SIGTERM, _raise)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
