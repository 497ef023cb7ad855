"""Lazy package attributes (PEP 562), so importing a package never imports torch.

Listing plugins and specs must stay cheap; heavy names are imported on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, table: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build ``__getattr__`` and ``__dir__`` for a package.

    Args:
        package: The package's ``__name__`` (for messages).
        table: Attribute name -> module that defines it.

    Returns:
        The two module-level functions to assign.
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook name
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook name
        return sorted(table)

    return __getattr__, __dir__
