"""Shared CLI plumbing: error handling, the plugin host, consoles."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click
from rich.console import Console, RenderableType
from rich.markup import escape

from lkadv.errors import ConfigError, LkadvError
from lkadv.plugins import PluginHost
from lkadv.reporters import as_text

__all__ = [
    "LkadvGroup",
    "err_console",
    "finish_run",
    "fit_consoles",
    "format_for_output",
    "get_host",
    "out_console",
    "print_json",
    "print_tables",
    "show_warning",
    "write_output",
]


out_console = Console()
err_console = Console(stderr=True)


def fit_consoles() -> None:
    """Set both consoles' widths for this invocation (COLUMNS may differ between invocations).

    On a terminal rich follows its size. Piped, COLUMNS decides, as for any tool;
    without it, 240 rather than rich's 80, so logs keep whole tables.
    """
    columns = os.environ.get("COLUMNS", "").strip()
    for console in (out_console, err_console):
        if columns.isdigit():
            console.width = int(columns)
        elif console.is_terminal:
            console._width = None  # follow the terminal's size (rich's setter only takes numbers)
        else:
            console.width = 240


def show_warning(message: Warning | str, *_: Any, **__: Any) -> None:
    """``warnings.showwarning`` for the command line: ``warning: ...`` on stderr, without a source line."""
    err_console.print(as_text(f"warning: {message}", "yellow"), soft_wrap=True)


def print_tables(renderables: Iterable[RenderableType], console: Console | None = None) -> None:
    """Print tables and notes; piped output gets no trailing spaces (rich pads lines to the width)."""
    console = console or out_console
    if console.is_terminal:
        for renderable in renderables:
            console.print(renderable)
        return
    with console.capture() as captured:
        for renderable in renderables:
            console.print(renderable)
    console.file.write("\n".join(line.rstrip() for line in captured.get().split("\n")))
    console.file.flush()


class LkadvGroup(click.Group):
    """A click group that turns lkadv's deliberate errors into a message and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        fit_consoles()
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


def format_for_output(output: Path | None, by_suffix: Mapping[str, str]) -> str:
    """The format an output file's suffix asks for (``r.csv`` -> csv); terminal without a file.

    Raises:
        ConfigError: If no format writes the file's suffix.
    """
    if output is None:
        return "terminal"
    fmt = by_suffix.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(by_suffix))
        raise ConfigError(
            f"-o {output}: no format writes {output.suffix or 'files without a suffix'}; "
            f"give -f FORMAT (suffixes known: {known})"
        )
    return fmt


def write_output(output: Path, text: str | bytes) -> None:
    """Write a whole file or nothing: a temporary file renamed into place when complete."""
    tmp = output.with_name(f".{output.name}.tmp")
    if isinstance(text, bytes):
        tmp.write_bytes(text)
    else:
        tmp.write_text(text)
    tmp.replace(output)


def finish_run(ctx: click.Context, result: Any, done: str) -> None:
    """The run's table, its one-line account (``done``: computed, scored), and exit 1 if a cell failed."""
    from lkadv.reporters import rich_tables

    print_tables(rich_tables(result.summary, brief=True, width=out_console.width))  # `lkadv report`: in full
    err_console.print(
        f"run {result.run_id} in {result.run_dir}: {result.computed_units} units {done}, "
        f"{result.reused_units} reused, {result.seconds:.1f}s",
        highlight=False,
    )
    if result.failures:
        err_console.print(f"[bold red]{len(result.failures)} cell(s) failed[/]; see the notes under the table")
        ctx.exit(1)
