"""The ``torchattacks`` lkadv plugin: registers the catalog (imports neither torch nor torchattacks)."""

from __future__ import annotations

import importlib.metadata as md

from lkadv import AttackSpec, hookimpl
from lkadv.registries import Registry
from lkadv_torchattacks._catalog import CATALOG, factory

__all__ = ["lkadv_register_attacks"]


def torchattacks_version() -> str:
    """The installed torchattacks version.

    Raises:
        ImportError: If torchattacks is not installed, saying how to install it.
    """
    try:
        return md.version("torchattacks")
    except md.PackageNotFoundError as exc:
        raise ImportError(
            "torchattacks is not installed; install it without its requests pin: "
            "pip install --no-deps torchattacks==3.5.1 (see the lkadv-torchattacks README)"
        ) from exc


@hookimpl
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register every catalog entry as ``ta-<name>``, backend ``torchattacks``."""
    version = torchattacks_version()
    for entry in CATALOG:
        registry.register(
            AttackSpec(
                name=entry.name,
                norms=entry.norms,
                factory=factory(entry.name),
                params=dict(entry.params),
                backend="torchattacks",
                backend_version=version,
                tags=entry.tags,
                description=entry.description,
            )
        )
