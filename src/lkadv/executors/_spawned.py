"""The entry point of a spawned worker process.

This module imports nothing heavy at import time: the worker binds itself to
its GPU (``CUDA_VISIBLE_DEVICES``) before anything can initialise CUDA, and
only then loads torch, the plan and the runner.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["worker_main"]


def _bind(device: str) -> str:
    """Make ``device`` the only GPU this process can see; the torch device to use inside it."""
    if device.startswith("cuda"):
        index = device.partition(":")[2] or "0"
        os.environ["CUDA_VISIBLE_DEVICES"] = index
        return "cuda:0"
    return device


def worker_main(conn: Connection, device: str, plan_blob: bytes, threads: int) -> None:
    """Serve tasks from the driver until it sends None.

    Messages to the driver: ``("ready",)`` once, then per task the runner's
    messages (see :mod:`lkadv.executors._worker`) and ``("done",)``, or
    ``("error", text)`` if the task itself raised.

    Args:
        conn: This worker's end of its pipe to the driver.
        device: The device it runs on (``cpu``, ``cuda:N``).
        plan_blob: The pickled plan.
        threads: CPU threads for torch.
    """
    # Ctrl-C reaches the whole process group; the driver alone decides what an interrupt means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    local = _bind(device)
    import torch

    from lkadv.errors import describe
    from lkadv.executors._worker import WorkerState

    torch.set_num_threads(max(1, threads))
    # The blob comes from this worker's own driver through a private pipe, never from outside.
    state = WorkerState(pickle.loads(plan_blob), local, name=device)  # noqa: S301
    conn.send(("ready",))
    while True:
        task: Any = conn.recv()
        if task is None:
            return
        try:
            state.run_task(task, conn.send)
        except Exception as exc:  # a task's own failure is reported; the worker serves the next one
            conn.send(("error", f"{describe(exc)}\n{traceback.format_exc(limit=8)}"))
            continue
        conn.send(("done",))
