"""Run a function right after a module is imported, without importing it.

Importing ``lkadv_largekernel`` must register its models with timm, yet it must
not import timm (and torch) itself: lkadv loads plugins to *list* models, which
has to stay fast. So the registration runs now if timm is already imported,
and otherwise as soon as something imports it. (``wrapt`` has post-import
hooks too; this is the twenty lines of them we need, without a dependency.)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType

__all__ = ["when_imported"]

Hook = Callable[[ModuleType], None]


def _run(hook: Hook, module: ModuleType) -> None:
    try:
        hook(module)
    except Exception as exc:  # a failing hook must never break the import of the module it watches
        warnings.warn(f"post-import hook {hook!r} for {module.__name__!r} failed: {exc}", stacklevel=2)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds ``name`` through the other finders and wraps its loader to call the hook after it runs."""

    def __init__(self, name: str, hook: Hook) -> None:
        self.name = name
        self.hook = hook
        self._busy = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name or self._busy:
            return None
        self._busy = True  # the lookup below walks sys.meta_path again, this finder included
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        original = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _run(self.hook, module)

        # Loaders are created per spec, so patching this instance affects this import only.
        setattr(spec.loader, "exec_module", exec_module)  # noqa: B010 - mypy forbids assigning to a method
        return spec


def when_imported(name: str, hook: Hook) -> None:
    """Call ``hook(module)`` once the top-level module ``name`` is imported (now, if it is).

    Args:
        name: Top-level module name (e.g. ``"timm"``).
        hook: Called with the module; its exceptions become warnings.
    """
    module = sys.modules.get(name)
    if module is not None:
        _run(hook, module)
        return
    if not any(isinstance(f, _PostImportFinder) and f.name == name and f.hook is hook for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder(name, hook))
