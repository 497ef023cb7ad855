"""``lkadv list KIND``: registered models, attacks, corruptions, datasets, executors, reporters."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from lkadv.cli._common import get_host, out_console, print_json
from lkadv.reporters import as_text

__all__ = ["list_cmd"]

_KINDS = ("models", "attacks", "corruptions", "datasets", "executors", "reporters", "analyses")
_COLUMNS: dict[str, tuple[str, ...]] = {
    "models": ("name", "family", "label_space", "input_size", "kernel_sizes", "params", "clean_accuracy", "tags"),
    "attacks": ("name", "norms", "backend", "backend_version", "default_config", "description"),
    "corruptions": ("name", "category", "standard", "random", "severities"),
    "datasets": ("name", "label_space", "num_classes", "shipped", "env_var", "default_limit", "description"),
    "executors": ("name", "description"),
    "reporters": ("name", "suffix", "description"),
    "analyses": ("name", "tags", "description"),
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ",".join(_fmt(v) for v in value) or "-"
    return "-" if value is None else str(value)


@click.command("list")
@click.argument("kind", type=click.Choice(_KINDS))
@click.option("--select", "selector", default=None, help="Selector to filter by (e.g. 'tag:large-kernel').")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def list_cmd(ctx: click.Context, kind: str, selector: str | None, as_json: bool) -> None:
    """List registered specs of one KIND (never imports model code)."""
    host = get_host(ctx, warn=not as_json)
    registry = host.registries.all()[kind]
    specs = registry.select(selector) if selector else list(registry)
    rows = []
    for spec in specs:
        row = spec.describe()
        row["plugin"] = registry.provider(spec.name)
        rows.append(row)
    if as_json:
        print_json(rows)
        return
    table = Table(title=as_text(f"lkadv {kind} ({len(rows)})"), title_justify="left")
    columns = (*_COLUMNS[kind], "plugin")
    for col in columns:
        table.add_column(col, overflow="fold")  # full configurations, never cut with an ellipsis
    for row in rows:
        table.add_row(*(as_text(_fmt(row.get(c))) for c in columns))
    out_console.print(table)
    presets = registry.presets()
    if presets and not selector:
        out_console.print(as_text("presets: " + "; ".join(f"preset:{k} = {v}" for k, v in presets.items())))
