"""Registries of specs, filled by plugins and read through selectors."""

from lkadv.registries._registry import Registry, Resolver, Spec
from lkadv.registries._set import Registries

__all__ = ["Registries", "Registry", "Resolver", "Spec"]
