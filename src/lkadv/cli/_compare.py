"""``lkadv compare``: a leaderboard across run directories, joined on cell identity."""

from __future__ import annotations

from pathlib import Path

import click

from lkadv.errors import ConfigError

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
        fmt = _format_for(output)
    text = render_comparison(compare_runs(list(run_dirs)), fmt)
    if output is None:
        click.echo(text, nl=False)
        return
    tmp = output.with_name(f".{output.name}.tmp")  # renamed when complete: never a half-written file
    tmp.write_text(text)
    tmp.replace(output)


def _format_for(output: Path | None) -> str:
    """The format an output file's suffix asks for; terminal without a file."""
    if output is None:
        return "terminal"
    fmt = _SUFFIXES.get(output.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_SUFFIXES))
        raise ConfigError(
            f"-o {output}: no format writes {output.suffix or 'files without a suffix'}; "
            f"give -f FORMAT (suffixes known: {known})"
        )
    return fmt
