"""The ``processes`` executor: one spawned worker process per device, on this machine."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import pickle
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from lkadv.config import RunOptions
from lkadv.errors import ConfigError
from lkadv.executors._base import Events, Lookup
from lkadv.executors._devices import parse_devices
from lkadv.executors._dispatch import Settings, drive
from lkadv.executors._spawned import worker_main
from lkadv.executors._tasks import Task, make_tasks
from lkadv.planner import Plan

__all__ = ["ProcessPool", "ProcessesExecutor", "retry_settings"]


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class ProcessPool:
    """Spawned worker processes, one per device, each with a pipe to the driver.

    Args:
        devices: One device per worker.
        plan: The plan every worker runs (pickled once).
    """

    def __init__(self, devices: list[str], plan: Plan) -> None:
        self.devices = devices
        self._ctx = mp.get_context("spawn")
        try:
            self._blob = pickle.dumps(plan)
        except Exception as exc:
            raise ConfigError(
                f"the plan cannot be sent to worker processes ({type(exc).__name__}: {exc}); plugins used with "
                "--executor processes must register importable factories (module-level functions), not lambdas"
            ) from exc
        cpus = os.cpu_count() or 1
        import torch

        # The CPU cores are shared out among the workers (CPU workers compute on them, GPU workers feed).
        self._threads = max(1, min(torch.get_num_threads(), cpus // max(1, len(devices))))
        self._procs: dict[int, tuple[BaseProcess, Connection]] = {}
        self._dead: set[int] = set()

    def start(self) -> int:
        for worker in range(len(self.devices)):
            self._spawn(worker)
        return len(self.devices)

    def _spawn(self, worker: int) -> None:
        ours, theirs = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=worker_main,
            args=(theirs, self.devices[worker], self._blob, self._threads),
            name=f"lkadv-worker-{worker}",
            daemon=True,
        )
        proc.start()
        theirs.close()  # the child holds its end; ours reads EOF when it dies
        self._procs[worker] = (proc, ours)
        self._dead.discard(worker)

    def name(self, worker: int) -> str:
        return self.devices[worker]

    def submit(self, worker: int, task: Task) -> None:
        self._procs[worker][1].send(task)

    def receive(self, timeout: float | None) -> list[tuple[int, tuple[Any, ...]]]:
        live = {w: p for w, p in self._procs.items() if w not in self._dead}
        handles: dict[Any, int] = {}
        for worker, (proc, conn) in live.items():
            handles[conn] = worker
            handles[proc.sentinel] = worker
        out: list[tuple[int, tuple[Any, ...]]] = []
        for ready in wait(list(handles), timeout):
            worker = handles[ready]
            if worker in self._dead:
                continue
            proc, conn = live[worker]
            try:
                while conn.poll():
                    out.append((worker, conn.recv()))
            except (EOFError, OSError):
                pass
            if not proc.is_alive():
                proc.join()
                self._dead.add(worker)
                out.append((worker, ("dead", _exit_reason(proc.exitcode))))
        return out

    def kill(self, worker: int) -> None:
        self._procs[worker][0].kill()

    def replace(self, worker: int) -> None:
        proc, conn = self._procs[worker]
        proc.join()
        conn.close()
        self._spawn(worker)

    def close(self) -> None:
        for _, conn in self._procs.values():
            with contextlib.suppress(OSError, ValueError):  # a dead worker's pipe is closed: nothing to tell it
                conn.send(None)
        for proc, conn in self._procs.values():
            # An idle worker exits at once; one still busy (the driver was interrupted) has nobody to report to.
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()


def retry_settings(options: RunOptions) -> Settings:
    """Attempts and hang limit, as the run's options give them (``LKADV_MAX_ATTEMPTS``, ``LKADV_HANG_SECONDS``)."""
    return Settings(max_attempts=options.max_attempts, hang_seconds=options.hang_seconds)


class ProcessesExecutor:
    """Runs units in one spawned process per device (``--executor processes``).

    Args:
        device: The run's ``--device`` (unused unless ``devices`` is ``auto`` on a machine without GPU).
        devices: ``auto`` (every visible GPU), or a list such as ``cuda:0,cuda:1`` or ``cpu,cpu``.
        settings: Attempts per unit and hang limit (default: the run options', :func:`retry_settings`).

    Raises:
        ConfigError: If a device does not exist here.
    """

    def __init__(self, device: str = "auto", devices: str = "auto", settings: Settings | None = None) -> None:
        self.devices = parse_devices(devices)
        if devices.strip().lower() == "auto" and self.devices == ["cpu"] and device not in ("auto", "cpu"):
            raise ConfigError(f"--device {device} with --executor processes: use --devices to list devices")
        self.device = ",".join(self.devices)
        self.settings = settings

    def run(self, plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events) -> None:
        """Compute every pending unit on the worker processes; the driver commits each."""
        workers = min(len(self.devices), len(make_tasks(plan, pending)))  # no idle worker spawned for nothing
        settings = self.settings or retry_settings(plan.options)
        drive(plan, pending, lookup, events, ProcessPool(self.devices[: max(1, workers)], plan), settings)
