"""What ``lkadv report`` adds to a summary on request: paired tests, per-class tables, figures, model tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lkadv.errors import ConfigError

__all__ = ["add_sections", "default_per_class", "large_kernel_models", "split_pair", "write_plots_to"]


def split_pair(value: str | None) -> tuple[str, str] | None:
    """``A,B`` as two model names.

    Raises:
        ConfigError: If the value is not two comma-separated names.
    """
    if value is None:
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts):
        raise ConfigError(f"--pair {value!r}: give two model names separated by a comma (--pair fm-resnet,fm-vit)")
    return parts[0], parts[1]


def add_sections(summary: Any, ledger: Any, pair: tuple[str, str] | None, per_class: str | None) -> None:
    """Append the asked-for paired test and per-class table to the summary's sections."""
    from lkadv.reporters import pair_section, per_class_section

    if pair is not None:
        summary.sections.append(pair_section(summary, ledger, *pair))
    if per_class is not None:
        summary.sections.append(per_class_section(summary, ledger, per_class))


def default_per_class(summary: Any, ledger: Any) -> str | None:
    """The page's per-class table when none is asked for: at clean, if the run has it and its labels are stored."""
    if "clean" not in summary.columns or ledger.subset_labels(summary.subset.get("digest", "")) is None:
        return None
    return "clean"


def large_kernel_models(host: Any, summary: Any) -> frozenset[str]:
    """The run's models that their registry tags ``large-kernel`` (models no plugin knows now are left unmarked)."""
    known = {spec.name: spec for spec in host.registries.models}  # listing builds nothing (lazy factories)
    out = set()
    for model, _ in summary.models:
        if model in known and "large-kernel" in getattr(known[model], "tags", ()):
            out.add(model)
    return frozenset(out)


def write_plots_to(host: Any, summary: Any, directory: Path) -> list[str]:
    """Every figure as SVG and PNG under ``directory``."""
    from lkadv.reporters import write_plots

    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--plots {directory}: not a directory; give a directory to write the figures into")
    written: list[str] = write_plots(summary, directory, large_kernel_models(host, summary))
    return written
