"""Which executors can run here, and why one cannot (for ``lkadv doctor``)."""

from __future__ import annotations

from typing import Any

from lkadv.executors._devices import visible_gpus

__all__ = ["executor_status"]


def executor_status(names: list[str]) -> dict[str, dict[str, Any]]:
    """For each executor name: ``available`` and a ``detail`` that says why (not).

    Executors other than the built-in ones are reported as registered, without a check.
    """
    from lkadv.executors._ray import ray_available

    gpus = visible_gpus()
    ray_missing = ray_available()
    known: dict[str, tuple[bool, str]] = {
        "local": (True, "one device in this process"),
        "processes": (
            True,
            f"one worker per GPU ({gpus} visible)" if gpus else "no GPU visible: CPU workers only (--devices cpu,cpu)",
        ),
        "ray": (ray_missing is None, ray_missing or "Ray installed; --ray-address, RAY_ADDRESS or a local instance"),
        "auto": (True, "picks processes (more than one GPU visible)" if gpus > 1 else "picks local (at most one GPU)"),
    }
    return {
        name: dict(
            zip(("available", "detail"), known.get(name, (True, "registered by a plugin; not checked")), strict=True)
        )
        for name in names
    }
