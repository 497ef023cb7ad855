"""A registry of specs of one kind, with selectors.

Specs are plain dataclasses holding lazy factories, so a registry can be filled
and listed without importing any model, attack or dataset code.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from lkadv.errors import SelectionError, SpecError

__all__ = ["Registry", "Resolver", "Spec"]


class Spec(Protocol):
    """What every spec type offers the registry."""

    @property
    def name(self) -> str:
        """Registry name."""
        ...

    def validate(self) -> None:
        """Raise SpecError when a field breaks the contract."""
        ...

    def describe(self) -> dict[str, Any]:
        """JSON-ready description."""
        ...


S = TypeVar("S", bound=Spec)

Resolver = Callable[[str], Any]
"""Turns the part of a name after ``prefix:`` into a spec (e.g. any timm model)."""


@dataclass(frozen=True)
class _Preset:
    selector: str
    provider: str
    description: str


class Registry(Generic[S]):
    """Specs of one kind, by name, with the plugin that provided each.

    Args:
        kind: Human name of the spec kind (``"model"``, ``"attack"``...), used in messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._specs: dict[str, S] = {}
        self._providers: dict[str, str] = {}
        self._presets: dict[str, _Preset] = {}
        self._resolvers: dict[str, tuple[Resolver, str]] = {}

    # ----------------------------------------------------------------- filling

    def register(self, spec: S, *, provider: str = "<direct>") -> None:
        """Validate and add a spec.

        Args:
            spec: The spec.
            provider: Name of the plugin registering it.

        Raises:
            SpecError: If the spec is invalid or its name is taken.
        """
        spec.validate()
        if spec.name in self._specs:
            raise SpecError(f"{self.kind} {spec.name!r} is already registered by plugin {self._providers[spec.name]!r}")
        self._specs[spec.name] = spec
        self._providers[spec.name] = provider

    def register_preset(self, name: str, selector: str, *, provider: str = "<direct>", description: str = "") -> None:
        """Add a named selector, used as ``preset:NAME``.

        Raises:
            SpecError: If the preset name is taken.
        """
        if name in self._presets:
            raise SpecError(f"{self.kind} preset {name!r} is already registered by {self._presets[name].provider!r}")
        self._presets[name] = _Preset(selector, provider, description)

    def register_resolver(self, prefix: str, resolver: Resolver, *, provider: str = "<direct>") -> None:
        """Add an on-demand source of specs, used as ``PREFIX:NAME`` (e.g. ``timm:resnet50``).

        Raises:
            SpecError: If the prefix is taken.
        """
        if prefix in self._resolvers:
            raise SpecError(f"{self.kind} prefix {prefix!r} is already registered by {self._resolvers[prefix][1]!r}")
        self._resolvers[prefix] = (resolver, provider)

    def withdraw(self, provider: str) -> None:
        """Remove everything a provider registered (used when a plugin turns out broken)."""
        for name in [n for n, p in self._providers.items() if p == provider]:
            del self._specs[name], self._providers[name]
        for name in [n for n, p in self._presets.items() if p.provider == provider]:
            del self._presets[name]
        for prefix in [k for k, (_, p) in self._resolvers.items() if p == provider]:
            del self._resolvers[prefix]

    # ---------------------------------------------------------------- reading

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[S]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._specs)

    def provider(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._providers[name]

    def presets(self) -> dict[str, str]:
        """Preset names and their selectors."""
        return {k: v.selector for k, v in self._presets.items()}

    def tags(self) -> list[str]:
        """Every tag in use."""
        return sorted({t for s in self._specs.values() for t in getattr(s, "tags", ())})

    def get(self, name: str) -> S:
        """The spec called ``name`` (resolvers included).

        Raises:
            SelectionError: If nothing has that name; the message names the closest ones.
        """
        if name in self._specs:
            return self._specs[name]
        prefix, sep, rest = name.partition(":")
        if sep and prefix in self._resolvers:
            resolver, provider = self._resolvers[prefix]
            try:
                spec: S = resolver(rest)
            except SelectionError:
                raise
            except Exception as exc:  # a resolver's own failure is a selection problem for the user
                raise SelectionError(f"{self.kind} {name!r}: {exc}") from exc
            spec.validate()
            self._specs[name] = spec
            self._providers[name] = provider
            return spec
        raise SelectionError(self._unknown_message(name))

    def _unknown_message(self, name: str) -> str:
        names = list(self._specs)
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        close += [n for n in names if name in n and n not in close][: 5 - len(close)]
        hint = f"; closest: {', '.join(close)}" if close else ""
        listing = f"`lkadv list {self.kind}s` shows all {len(names)}"
        return f"unknown {self.kind} {name!r}{hint} ({listing})"

    def select(self, selector: str, *, where: Callable[[S], bool] | None = None) -> list[S]:
        """Expand a selector into specs, in a stable order without duplicates.

        The selector is a comma list of terms: ``all``; a name; a glob
        (``convnext*``); ``tag:TAG``; ``preset:NAME``; ``PREFIX:NAME`` for a
        resolver. A term starting with ``-`` removes what it selects.

        Args:
            selector: The selector string.
            where: Filter applied to ``all``, globs and tags (not to explicit names).

        Returns:
            The selected specs.

        Raises:
            SelectionError: If a term names nothing, or the result is empty.
        """
        chosen: dict[str, S] = {}
        terms = [t.strip() for t in selector.split(",") if t.strip()]
        if not terms:
            raise SelectionError(f"empty {self.kind} selector")
        for term in terms:
            remove = term.startswith("-")
            matched = self._expand(term[1:] if remove else term, where, depth=0)
            for spec in matched:
                if remove:
                    chosen.pop(spec.name, None)
                else:
                    chosen.setdefault(spec.name, spec)
        if not chosen:
            raise SelectionError(f"{self.kind} selector {selector!r} selects nothing")
        return list(chosen.values())

    def _expand(self, term: str, where: Callable[[S], bool] | None, depth: int) -> list[S]:
        keep = where or (lambda _s: True)
        if term == "all":
            return [s for s in self._specs.values() if keep(s)]
        if term.startswith("tag:"):
            tag = term[4:]
            found = [s for s in self._specs.values() if tag in getattr(s, "tags", ()) and keep(s)]
            if not found:
                known = ", ".join(self.tags()) or "none"
                raise SelectionError(f"no {self.kind} has tag {tag!r} (known tags: {known})")
            return found
        if term.startswith("preset:"):
            pname = term[7:]
            if pname not in self._presets:
                known = ", ".join(sorted(self._presets)) or "none"
                raise SelectionError(f"unknown {self.kind} preset {pname!r} (known presets: {known})")
            if depth > 8:
                raise SelectionError(f"{self.kind} preset {pname!r} refers to itself")
            out: list[S] = []
            for sub in self._presets[pname].selector.split(","):
                out += self._expand(sub.strip(), None, depth + 1)
            return out
        prefix, sep, _ = term.partition(":")
        if sep and prefix in self._resolvers:
            return [self.get(term)]  # resolver names may hold '[' (options), never a glob
        if any(ch in term for ch in "*?["):
            found = [s for s in self._specs.values() if fnmatch.fnmatchcase(s.name, term) and keep(s)]
            if not found:
                raise SelectionError(f"{self.kind} pattern {term!r} matches nothing ({self._unknown_message(term)})")
            return found
        return [self.get(term)]
