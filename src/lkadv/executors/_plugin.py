"""Built-in plugin: the local, processes, ray and auto executors."""

from __future__ import annotations

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import ExecutorSpec

__all__ = ["lkadv_register_executors"]


@hookimpl
def lkadv_register_executors(registry: Registry[ExecutorSpec]) -> None:
    """Register ``local``, ``processes``, ``ray`` and ``auto``."""
    registry.register(
        ExecutorSpec(
            name="local",
            factory="lkadv.executors._local:LocalExecutor",
            description="in-process, one device; models built once, images decoded once per shard",
        )
    )
    registry.register(
        ExecutorSpec(
            name="processes",
            factory="lkadv.executors._processes:ProcessesExecutor",
            description="one spawned worker per device (--devices); retries, OOM back-off, driver-only ledger",
        )
    )
    registry.register(
        ExecutorSpec(
            name="ray",
            factory="lkadv.executors._ray:RayExecutor",
            description="one Ray actor per GPU of a cluster (--ray-address); needs lkadv[ray]",
        )
    )
    registry.register(
        ExecutorSpec(
            name="auto",
            factory="lkadv.executors._auto:auto_executor",
            description="processes when more than one GPU is visible, else local (the default)",
        )
    )
