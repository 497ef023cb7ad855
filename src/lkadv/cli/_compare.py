"""``lkadv compare``: a leaderboard across run directories, joined on cell identity."""

from __future__ import annotations

from pathlib import Path

import click

from lkadv.cli._common import format_for_output, write_output

__all__ = ["compare"]

_SUFFIXES = {".txt": "terminal", ".md": "md", ".csv": "csv", ".json": "json", ".html": "html", ".htm": "html"}


@click.command("compare")
@click.argument("run_dirs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--format",
    "fmt",
    default=None,
    type=click.Choice(["terminal", "md", "csv", "json", "html"]),
    help="Output format (default: from the -o suffix, else terminal).",
)
@click.option("-o", "--output", default=None, type=click.Path(path_type=Path), help="Write to a file.")
def compare(run_dirs: tuple[Path, ...], fmt: str | None, output: Path | None) -> None:
    """Rank the models of two or more runs per threat; threats whose identity differs are listed, not compared."""
    from lkadv.reporters import compare_runs, render_comparison

    if fmt is None:
        fmt = format_for_output(output, _SUFFIXES)
    text = render_comparison(compare_runs(list(run_dirs)), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)
