"""Resolving ``module:attribute`` references, the form lazy factories take."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["resolve"]


def resolve(ref: str) -> Any:
    """Import ``package.module:attr.sub`` and return the attribute.

    Args:
        ref: A reference of the form ``module:qualified.name``.

    Returns:
        The referenced object.

    Raises:
        ImportError: If the module or the attribute does not exist.
    """
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ImportError(f"{ref!r} is not a 'module:attribute' reference")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ImportError(f"{module_name!r} has no attribute {qualname!r}") from exc
    return obj
