"""Executors: compute a plan's pending units on a device and report each to the runner."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.executors._base import Events, Executor, Lookup, UnitOutcome
    from lkadv.executors._device import pick_device, precision_support
    from lkadv.executors._local import LocalExecutor, score

__all__ = [
    "Events",
    "Executor",
    "LocalExecutor",
    "Lookup",
    "UnitOutcome",
    "pick_device",
    "precision_support",
    "score",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Events": "lkadv.executors._base",
        "Executor": "lkadv.executors._base",
        "Lookup": "lkadv.executors._base",
        "UnitOutcome": "lkadv.executors._base",
        "pick_device": "lkadv.executors._device",
        "precision_support": "lkadv.executors._device",
        "LocalExecutor": "lkadv.executors._local",
        "score": "lkadv.executors._local",
    },
)
