"""``--executor auto``: every GPU when there are several, else the in-process executor."""

from __future__ import annotations

from typing import Any

from lkadv.executors._devices import visible_gpus

__all__ = ["auto_executor"]


def auto_executor(device: str = "auto", devices: str = "auto") -> Any:
    """``processes`` over ``devices`` when more than one GPU is visible (or several devices are listed), else ``local``.

    An explicit ``--device`` keeps the run on that one device; one listed device runs in this process.

    Raises:
        ConfigError: If a listed device is not here.
    """
    from lkadv.executors._devices import parse_devices
    from lkadv.executors._local import LocalExecutor
    from lkadv.executors._processes import ProcessesExecutor

    explicit = devices.strip().lower() not in ("", "auto")
    listed = parse_devices(devices) if explicit else []  # a device that is not here fails now
    if device.strip().lower() != "auto":
        return LocalExecutor(device)
    if len(listed) > 1 or (not explicit and visible_gpus() > 1):
        return ProcessesExecutor(device=device, devices=devices)
    return LocalExecutor(listed[0] if listed else device)
