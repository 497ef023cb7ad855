"""Built-in plugin: the 19 ImageNet-C corruptions and their report sections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lkadv.corruptions._catalog import CATALOG
from lkadv.plugins import hookimpl
from lkadv.registries import Registry
from lkadv.specs import CorruptionSpec

if TYPE_CHECKING:
    from lkadv.metrics import ReportSection, Summary
    from lkadv.store import Ledger


__all__ = ["lkadv_register_corruptions", "lkadv_report_sections"]

# Bump when an implementation changes its output: it is part of every cell key.
VERSION = "1"


@hookimpl
def lkadv_register_corruptions(registry: Registry[CorruptionSpec]) -> None:
    """Register the 15 standard corruptions and the 4 extra ones (tags: their category, ``standard`` or ``extra``)."""
    for entry in CATALOG:
        registry.register(
            CorruptionSpec(
                name=entry.name,
                fn=entry.fn,
                category=entry.category,
                standard=entry.standard,
                random=entry.random,
                tags=frozenset({entry.category, "standard" if entry.standard else "extra", entry.scaling}),
                description=f"{entry.description} ({entry.scaling} resolution rule)",
                version=VERSION,
            )
        )


@hookimpl
def lkadv_report_sections(summary: Summary, ledger: Ledger) -> list[ReportSection] | None:
    """The per-corruption table and the mCE table, when the run has corruption cells."""
    from lkadv.corruptions._report import corruption_sections

    return corruption_sections(summary, ledger)
