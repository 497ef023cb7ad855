"""What executors produce and how they report back to the driver."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lkadv.planner import Cell, Plan, Unit
from lkadv.specs import ModelSpec
from lkadv.types import Outcomes

if TYPE_CHECKING:
    from torch import nn

__all__ = ["Events", "Executor", "Lookup", "UnitOutcome"]


@dataclass
class UnitOutcome:
    """A finished unit, before the driver commits it.

    Attributes:
        outcomes: Per-sample results of the shard.
        seconds: Compute time.
        info: Facts about the unit (samples attacked, largest perturbation...).
    """

    outcomes: Outcomes
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)


Lookup = Callable[[Cell, int], Outcomes | None]
"""Stored outcomes of a cell's shard, or None if that unit is not finished."""


class Events(Protocol):
    """The driver's side of an executor: commits and progress happen here."""

    def unit_finished(self, unit: Unit, outcome: UnitOutcome) -> None:
        """A unit is finished; the driver commits it before returning."""
        ...

    def cell_info(self, cell: Cell, info: dict[str, Any]) -> None:
        """Facts about a cell learnt while running (model build checks)."""
        ...

    def cell_failed(self, cell: Cell, error: str) -> None:
        """A cell cannot be computed (its model failed to build, an attack broke its contract)."""
        ...

    def stage_finished(self, unit: Unit, stages_done: int, state: dict[str, Any]) -> None:
        """A staged unit finished a stage; the driver records ``state`` so the unit can resume there."""
        ...

    def saved_progress(self, unit: Unit) -> tuple[int, dict[str, Any]] | None:
        """``(stages_done, state)`` recorded for an unfinished staged unit, or None."""
        ...

    def unit_step(self, unit: Unit, stage: str, stage_index: int, stages: int, done: int, total: int) -> None:
        """Progress inside a unit: ``done`` of ``total`` samples through stage ``stage_index + 1`` of ``stages``."""
        ...

    def stored_info(self, cell: Cell) -> dict[str, Any]:
        """What the ledger already records about a cell (its probe, say), so a restart does not redo it."""
        ...

    def network(self, model: ModelSpec) -> nn.Module | None:
        """The network the driver built to identify ``model`` (handed over once), or None.

        The driver builds every model once to key its cells on what was really
        loaded; an executor in the same process builds on that network instead
        of calling the factory again.
        """
        ...


class Executor(Protocol):
    """Runs the pending units of a plan."""

    def run(self, plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events) -> None:
        """Compute every pending ``(cell_key, shard)``, reporting each through ``events``."""
        ...
