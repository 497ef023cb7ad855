"""``lkadv plugins``: every plugin, its version, hooks, registrations and status."""

from __future__ import annotations

import click
from rich.table import Table

from lkadv.cli._common import get_host, out_console, print_json
from lkadv.reporters import as_text

__all__ = ["plugins"]


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins: name, version, hooks, what each registered, ok/broken/disabled."""
    host = get_host(ctx, warn=False)  # this listing is where problems are shown
    infos = list(host.plugins.values())
    if as_json:
        print_json([p.as_dict() for p in infos])
        return
    table = Table(title="lkadv plugins", title_justify="left")
    for col in ("plugin", "version", "source", "status", "hooks", "registered"):
        table.add_column(col)
    for p in infos:
        style = {"ok": "green", "broken": "bold red", "disabled": "dim"}[p.status]
        registered = "; ".join(f"{k}: {', '.join(v)}" for k, v in p.registered.items()) or "-"
        status = p.status if not p.errors else f"{p.status}: {' | '.join(p.errors)}"
        hooks = ", ".join(h.removeprefix("lkadv_") for h in p.hooks) or "-"
        table.add_row(
            as_text(p.name), as_text(p.version), as_text(p.source), as_text(status, style), hooks, as_text(registered)
        )
    out_console.print(table)
