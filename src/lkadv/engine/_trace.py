"""What the attack engine actually did inside a block: folded or not, lanes used.

The engine's fast paths change how an attack computes, not what; a cell still
records which paths ran, so a reader of its result (and a benchmark of the
user's path) knows. The executor opens a trace around a unit's attack; the
attack view and the lane splitter note into it. Outside a trace nothing is kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EngineTrace", "note_lanes", "note_view", "trace_engine"]


@dataclass
class EngineTrace:
    """Counts of the engine's paths within one traced block.

    Attributes:
        folded_views: Attack calls that differentiated the BatchNorm-folded copy.
        plain_views: Attack calls through the engine on the model as it is.
        lanes: Gradient passes by lane count (1: not split).
    """

    folded_views: int = 0
    plain_views: int = 0
    lanes: dict[int, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary recorded with a cell."""
        engine = self.folded_views + self.plain_views > 0
        return {
            "engine": engine,
            "folded_copy": self.folded_views > 0,
            "folded_views": self.folded_views,
            "plain_views": self.plain_views,
            "gradient_passes_by_lanes": {str(k): v for k, v in sorted(self.lanes.items())},
            "path": (
                "lkadv engine, BatchNorm-folded copy"
                if self.folded_views
                else "lkadv engine, model as it is"
                if engine
                else "the attack's own code on the model as it is (not lkadv's engine)"
            ),
        }


_current: ContextVar[EngineTrace | None] = ContextVar("lkadv_engine_trace", default=None)


@contextmanager
def trace_engine() -> Iterator[EngineTrace]:
    """Collect the engine's paths taken within the block (this thread and context)."""
    trace = EngineTrace()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def note_view(folded: bool) -> None:
    """An attack entered the engine's view of a model."""
    trace = _current.get()
    if trace is not None:
        if folded:
            trace.folded_views += 1
        else:
            trace.plain_views += 1


def note_lanes(lanes: int) -> None:
    """A gradient pass was split into ``lanes`` lanes."""
    trace = _current.get()
    if trace is not None:
        trace.lanes[lanes] = trace.lanes.get(lanes, 0) + 1
