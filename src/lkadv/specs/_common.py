"""Validation helpers shared by every spec type."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lkadv.errors import SpecError

__all__ = ["NAME_PATTERN", "RESOLVED_PATTERN", "check", "check_factory", "check_name"]

# Names appear in selectors, ledger keys and file names: keep them plain.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
# Specs made on demand by a resolver are named ``prefix:anything`` (``timm:vit_base[file=/x]``).
RESOLVED_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.\-]*:\S+$")


def check(condition: bool, kind: str, name: str, field: str, problem: str) -> None:
    """Raise a :class:`SpecError` naming the spec, the field and the problem.

    Args:
        condition: What must hold.
        kind: Spec type, e.g. ``"ModelSpec"``.
        name: Spec name.
        field: Offending field.
        problem: What is wrong with it.

    Raises:
        SpecError: If ``condition`` is false.
    """
    if not condition:
        raise SpecError(f"{kind} {name!r}: field {field!r} {problem}")


def check_name(kind: str, name: Any) -> None:
    """Check that a spec name is a lowercase plain identifier."""
    if not isinstance(name, str) or not (NAME_PATTERN.match(name) or RESOLVED_PATTERN.match(name)):
        raise SpecError(
            f"{kind} {name!r}: field 'name' must be lowercase letters, digits, '.', '_' or '-' "
            "and start with a letter or digit"
        )


def check_factory(kind: str, name: str, factory: Callable[..., Any] | str, field: str = "factory") -> None:
    """Check that a factory is a callable or a ``module:attribute`` reference."""
    ok = callable(factory) or (isinstance(factory, str) and factory.count(":") == 1 and not factory.startswith(":"))
    check(ok, kind, name, field, f"must be a callable or a 'module:attribute' string, got {factory!r}")
