"""``--executor auto``: every GPU when there are several, else the in-process executor."""

from __future__ import annotations

from typing import Any

from lkadv.executors._devices import visible_gpus

__all__ = ["auto_executor"]


def auto_executor(device: str = "auto", devices: str = "auto") -> Any:
    """``processes`` over ``devices`` when more than one GPU is visible (or several devices are listed), else ``local``.

    An explicit ``--device`` keeps the run on that one device.
    """
    from lkadv.executors._local import LocalExecutor
    from lkadv.executors._processes import ProcessesExecutor

    listed = [d for d in devices.split(",") if d.strip()]
    several = len(listed) > 1 or (devices.strip().lower() == "auto" and visible_gpus() > 1)
    if device.strip().lower() == "auto" and several:
        return ProcessesExecutor(device=device, devices=devices)
    return LocalExecutor(device)
