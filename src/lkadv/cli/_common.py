"""Shared CLI plumbing: error handling, the plugin host, consoles."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from lkadv.errors import LkadvError
from lkadv.plugins import PluginHost
from lkadv.reporters import as_text

__all__ = ["LkadvGroup", "err_console", "get_host", "out_console", "print_json"]

# Off a terminal (pipes, CI logs) rich would wrap tables at 80 columns; results must stay whole.
out_console = Console(width=None if Console().is_terminal else 240)
err_console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 240)


class LkadvGroup(click.Group):
    """A click group that turns lkadv's deliberate errors into a message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LkadvError as exc:
            # The message is text (it quotes paths, TOML tables like [data], plugin output), never markup.
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
            ctx.exit(exc.exit_code)


def get_host(ctx: click.Context, *, warn: bool = True) -> PluginHost:
    """The plugin host of this invocation (loaded once, with the global plugin options).

    With ``warn``, names that match no plugin and broken plugins are reported on
    stderr, so a typo in ``-p no:NAME`` or a plugin's bad spec is never silent.
    """
    obj = ctx.ensure_object(dict)
    if "host" not in obj:
        disable = [p[3:] for p in obj.get("plugins", ()) if p.startswith("no:")]
        extra = [(p, _import(p)) for p in obj.get("plugins", ()) if not p.startswith("no:")]
        obj["host"] = PluginHost(disable=disable, strict=obj.get("strict") or None, extra=extra)
        if warn:
            for line in obj["host"].problems():
                err_console.print(as_text(f"warning: {line}", "yellow"), soft_wrap=True)
    host: PluginHost = obj["host"]
    return host


def _import(module: str) -> object:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise click.BadParameter(
            f"cannot import plugin module {module!r}: {exc} (it must be importable: on sys.path or PYTHONPATH)",
            param_hint="-p",
        ) from exc
    except Exception as exc:  # the module's own code failed: its author's error, reported as text
        raise click.BadParameter(
            f"plugin module {module!r} raised {type(exc).__name__} on import: {exc}", param_hint="-p"
        ) from exc


def print_json(data: Any) -> None:
    """Write JSON to stdout (no rich markup or wrapping)."""
    click.echo(json.dumps(data, indent=2, default=str))
