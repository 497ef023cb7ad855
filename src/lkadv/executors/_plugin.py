"""Built-in plugin: the local (in-process) executor."""

from __future__ import annotations

from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import ExecutorSpec

__all__ = ["lkadv_register_executors"]


@hookimpl
def lkadv_register_executors(registry: Registry[ExecutorSpec]) -> None:
    """Register ``local``."""
    registry.register(
        ExecutorSpec(
            name="local",
            factory="lkadv.executors._local:LocalExecutor",
            description="in-process, one device; models built once, images decoded once per shard",
        )
    )
