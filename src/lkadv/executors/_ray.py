"""The ``ray`` executor: one Ray actor per GPU of a cluster (or of a local Ray instance).

Ray places the actors (``num_gpus=1`` each), restarts one whose process or
node is lost, and moves the plan once per node through its object store. The
driver loop is the processes executor's (:mod:`lkadv.executors._dispatch`):
tasks by model affinity and longest first, a unit committed once by the
driver alone, a lost actor's unfinished units handed out again. Each actor
streams its messages back as they happen (a Ray generator), so a finished
unit is committed even if its actor dies a moment later.
"""

from __future__ import annotations

import queue
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

from lkadv.errors import ConfigError
from lkadv.executors._base import Events, Lookup
from lkadv.executors._dispatch import Settings, drive
from lkadv.executors._processes import retry_settings
from lkadv.executors._tasks import Task
from lkadv.planner import Plan

__all__ = ["RayExecutor", "RayPool", "ray_available"]


def ray_available() -> str | None:
    """None if Ray can be imported, else why not (shown by ``lkadv doctor``)."""
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        return f"Ray is not installed ({exc}); pip install 'lkadv[ray]'"
    return None


def _check_reachable(address: str) -> None:
    """Fail fast on an address nothing listens at (Ray itself would retry for a long time)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    host, port = parts.hostname, parts.port
    if not host or port is None:
        raise ConfigError(f"--ray-address {address!r} is not host:port (or ray://host:port)")
    try:
        with socket.create_connection((host, port), timeout=5):
            pass
    except OSError as exc:
        raise ConfigError(
            f"--ray-address {address}: nothing answers at {host}:{port} ({exc}); start the head with "
            "`ray start --head` there, or leave --ray-address and RAY_ADDRESS unset for a local instance"
        ) from exc


def _cluster_gpus() -> int:
    import ray

    resources: Any = ray.cluster_resources  # untyped in Ray's stubs
    return int(resources().get("GPU", 0))


class _Actor:
    """What each Ray actor runs: a :class:`~lkadv.executors._worker.WorkerState` on its GPU or CPU."""

    def __init__(self, plan: Plan) -> None:
        import ray
        import torch

        from lkadv.executors._worker import WorkerState

        gpus = ray.get_gpu_ids()
        node = ray.get_runtime_context().get_node_id()[:8]
        # Ray has already set CUDA_VISIBLE_DEVICES to this actor's GPU, so it is cuda:0 here.
        local = "cuda:0" if gpus and torch.cuda.is_available() else "cpu"
        name = f"{'cuda:' + str(gpus[0]) if local != 'cpu' else 'cpu'}@{node}"
        self.state = WorkerState(plan, local, name=name)

    def ready(self) -> str:
        return self.state.name

    def run(self, task: Task) -> Any:
        from lkadv.errors import describe

        messages: queue.Queue[tuple[Any, ...]] = queue.Queue()

        def work() -> None:
            try:
                self.state.run_task(task, messages.put)
            except Exception as exc:  # reported to the driver, which counts an attempt
                messages.put(("error", describe(exc)))
                return
            messages.put(("done",))

        threading.Thread(target=work, daemon=True).start()
        while True:
            message = messages.get()
            yield message
            if message[0] in ("done", "error"):
                return


class RayPool:
    """Ray actors, restartable, each streaming its task's messages to a driver-side queue.

    Args:
        plan: The plan (put into the object store once).
        count: Number of actors.
        gpu: One GPU per actor (else one CPU).
    """

    def __init__(self, plan: Plan, count: int, gpu: bool) -> None:
        self.plan, self.count, self.gpu = plan, count, gpu
        self._inbox: queue.Queue[tuple[int, tuple[Any, ...]]] = queue.Queue()
        self._actors: list[Any] = []
        self._names: dict[int, str] = {}
        self._plan_ref: Any = None

    def start(self) -> int:
        import ray

        resources = {"num_gpus": 1} if self.gpu else {"num_cpus": 1}
        # Restarted by Ray when its process or node is lost; the driver re-queues the task itself.
        decorate: Any = ray.remote
        remote = decorate(max_restarts=-1, max_task_retries=0, **resources)(_Actor)
        # Held for the pool's life: a restarted actor is built again from this same object.
        self._plan_ref = ray.put(self.plan)
        self._actors = [remote.remote(self._plan_ref) for _ in range(self.count)]
        for worker in range(self.count):
            self._watch_ready(worker)
        return self.count

    def _watch_ready(self, worker: int) -> None:
        def wait() -> None:
            import ray

            try:
                self._names[worker] = ray.get(self._actors[worker].ready.remote())
            except Exception as exc:  # the actor could not start (or restart): a death the driver counts
                self._inbox.put((worker, ("dead", f"{type(exc).__name__}: {exc}")))
                return
            self._inbox.put((worker, ("ready",)))

        threading.Thread(target=wait, daemon=True).start()

    def name(self, worker: int) -> str:
        return self._names.get(worker, f"ray actor {worker}")

    def submit(self, worker: int, task: Task) -> None:
        stream = self._actors[worker].run.remote(task)

        def pump() -> None:
            import ray

            try:
                for ref in stream:
                    self._inbox.put((worker, ray.get(ref)))
            except ray.exceptions.RayActorError as exc:
                self._inbox.put((worker, ("dead", f"the actor was lost: {str(exc).splitlines()[0]}")))
            except ray.exceptions.RayError as exc:
                self._inbox.put((worker, ("error", str(exc).splitlines()[0])))

        threading.Thread(target=pump, daemon=True).start()

    def receive(self, timeout: float | None) -> list[tuple[int, tuple[Any, ...]]]:
        try:
            out = [self._inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                out.append(self._inbox.get_nowait())
            except queue.Empty:
                return out

    def kill(self, worker: int) -> None:
        import ray

        ray.kill(self._actors[worker], no_restart=False)

    def replace(self, worker: int) -> None:
        self._watch_ready(worker)  # Ray restarts the actor itself; wait for it to answer again

    def close(self) -> None:
        import ray

        for actor in self._actors:
            ray.kill(actor, no_restart=True)


class RayExecutor:
    """Runs units on Ray actors (``--executor ray``, extra ``lkadv[ray]``).

    Args:
        device: The run's ``--device`` (Ray places actors; only ``auto`` is meaningful).
        devices: ``auto`` (one actor per GPU of the cluster; one CPU actor without GPU),
            or ``cpu,cpu`` (that many CPU actors).
        address: The cluster (default: ``RAY_ADDRESS``, else a local instance).
        settings: Attempts per unit and hang limit.

    Raises:
        ConfigError: Without Ray, or if the cluster cannot be reached.
    """

    def __init__(
        self, device: str = "auto", devices: str = "auto", address: str | None = None, settings: Settings | None = None
    ) -> None:
        missing = ray_available()
        if missing is not None:
            raise ConfigError(f"--executor ray: {missing}")
        self.devices, self.address = devices.strip().lower(), address
        items = [d.strip() for d in self.devices.split(",") if d.strip()]
        if self.devices != "auto" and any(d != "cpu" for d in items):
            raise ConfigError(f"--devices {devices!r} with --executor ray: use auto (one actor per GPU) or cpu,cpu")
        self.settings = settings
        self._owned = False
        import os

        self._target = self.address or os.environ.get("RAY_ADDRESS")
        if self._target:  # checked now, before the run directory is written; joined only when the run starts
            _check_reachable(self._target)
        self.device = f"ray ({self._target or 'local instance'})"

    def _connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        try:
            ray.init(address=self._target or None, ignore_reinit_error=True, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(
                f"--executor ray: cannot connect to Ray at {self._target or 'a local instance'}: {exc}"
            ) from exc
        self._owned = True

    def _layout(self) -> tuple[int, bool]:
        if self.devices != "auto":
            return len([d for d in self.devices.split(",") if d.strip()]), False
        gpus = _cluster_gpus()
        return (gpus, True) if gpus else (1, False)

    def run(self, plan: Plan, pending: set[tuple[str, int]], lookup: Lookup, events: Events) -> None:
        """Compute every pending unit on Ray actors; the driver commits each."""
        self._connect()
        try:
            count, gpu = self._layout()
            drive(
                plan, pending, lookup, events, RayPool(plan, count, gpu), self.settings or retry_settings(plan.options)
            )
        finally:
            if self._owned:
                import ray

                ray.shutdown()
