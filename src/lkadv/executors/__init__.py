"""Executors: compute a plan's pending units on a device and report each to the runner."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.executors._availability import executor_status
    from lkadv.executors._base import Events, Executor, Lookup, UnitOutcome
    from lkadv.executors._device import pick_device, precision_support
    from lkadv.executors._devices import parse_devices, visible_gpus
    from lkadv.executors._dispatch import Settings
    from lkadv.executors._factory import make_executor
    from lkadv.executors._local import LocalExecutor, score
    from lkadv.executors._processes import ProcessesExecutor
    from lkadv.executors._ray import RayExecutor

__all__ = [
    "Events",
    "Executor",
    "LocalExecutor",
    "Lookup",
    "ProcessesExecutor",
    "RayExecutor",
    "Settings",
    "UnitOutcome",
    "executor_status",
    "make_executor",
    "parse_devices",
    "pick_device",
    "precision_support",
    "score",
    "visible_gpus",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "executor_status": "lkadv.executors._availability",
        "parse_devices": "lkadv.executors._devices",
        "visible_gpus": "lkadv.executors._devices",
        "Settings": "lkadv.executors._dispatch",
        "make_executor": "lkadv.executors._factory",
        "ProcessesExecutor": "lkadv.executors._processes",
        "RayExecutor": "lkadv.executors._ray",
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
