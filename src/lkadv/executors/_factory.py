"""Building the executor a run asks for, with the options it takes."""

from __future__ import annotations

import inspect
from typing import Any

from lkadv.config import RunOptions
from lkadv.plugins import PluginHost
from lkadv.types import resolve

__all__ = ["make_executor"]


def make_executor(host: PluginHost, options: RunOptions) -> Any:
    """The executor ``options.executor`` names, given the options its factory accepts.

    Every factory gets ``device``; ``devices`` and ``address`` (``--ray-address``)
    only reach factories that declare them, so executors written before they
    existed keep working.

    Raises:
        LkadvError: If the executor is unknown or its options are wrong (a device this machine lacks...).
    """
    spec = host.registries.executors.get(options.executor)
    factory = resolve(spec.factory)
    try:
        accepted = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # a builtin or C callable: give it what every factory takes
        accepted = {}  # type: ignore[assignment]
    kwargs: dict[str, Any] = {"device": options.device}
    for name, value in (("devices", options.devices), ("address", options.ray_address)):
        if name in accepted:
            kwargs[name] = value
    return factory(**kwargs)
