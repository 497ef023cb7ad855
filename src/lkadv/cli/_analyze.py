"""``lkadv analyze``: the study's analyses on the selected models, resumable, with tables and figures."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from lkadv._signals import terminate_as_interrupt
from lkadv.cli._common import err_console, get_host, print_tables
from lkadv.config import load_options, parse_params
from lkadv.errors import RunInterrupted

__all__ = ["analyze_cmd"]


def _tables(result: Any) -> list[Any]:
    from rich.table import Table

    from lkadv.reporters import as_text

    out: list[Any] = []
    for name, rows in result.tables.items():
        if not rows:
            continue
        table = Table(title=as_text(name), title_justify="left")
        columns = list(dict.fromkeys(k for row in rows for k in row))
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(as_text(str(row.get(c, ""))) for c in columns))
        out.append(table)
    for s in result.skipped:
        out.append(as_text(f"{s['analysis']}: skipped {s['model']}: {s['reason']}", "yellow"))
    return out


@click.command("analyze")
@click.option("-m", "--models", default=None, help="Models: all, names, globs ('fm-*'), tag:T, preset:P, timm:NAME.")
@click.option(
    "-A", "--analyses", default="all", show_default=True, help="Analyses: all, names, globs, preset:lkrobust."
)
@click.option(
    "--analysis-param", "analysis_params", multiple=True, help="ANALYSIS.PARAM=VALUE, e.g. occlusion.grid=14."
)
@click.option("-d", "--dataset", default=None, help="Dataset of the images (default: fashion-mnist).")
@click.option("--limit", default=None, type=int, help="Images: a seeded class-balanced subset; 0 for all.")
@click.option("--seed", default=None, type=int, help="Base seed (default 0).")
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--batch-size", default=None, type=int, help="Batch size.")
@click.option("--run-dir", default=None, help="Run directory (default lkadv-runs); results go to analyses.sqlite.")
@click.option("--config", "config_file", default=None, type=click.Path(path_type=Path), help="TOML config file.")
@click.option("-q", "--quiet", is_flag=True, help="No per-unit progress lines.")
@click.pass_context
def analyze_cmd(
    ctx: click.Context,
    /,
    analyses: str,
    analysis_params: tuple[str, ...],
    config_file: Path | None,
    quiet: bool,
    **flags: Any,
) -> None:
    """Run the analyses (occlusion, kernel attention, frequency, variance, lesion, ERF, shape bias)."""
    from lkadv.analyses import analyze

    params = parse_params(list(analysis_params), "option --analysis-param") if analysis_params else {}
    flags["strict_plugins"] = ctx.obj.get("strict") or None
    options = load_options(flags, config_file=config_file)
    host = get_host(ctx)

    def progress(unit: Any, seconds: float) -> None:
        if not quiet:
            err_console.print(
                f"{unit.model} {unit.analysis} {unit.unit}: {seconds:.2f}s", highlight=False, markup=False
            )

    try:
        with terminate_as_interrupt():
            result = analyze(options, analyses, params, host=host, progress=progress)
    except KeyboardInterrupt as exc:
        code = exc.exit_code if isinstance(exc, RunInterrupted) else 130
        err_console.print(
            f"interrupted: every finished unit is stored in {options.run_dir / 'analyses.sqlite'}; "
            f"the same command resumes (lkadv analyze --run-dir {shlex.quote(str(options.run_dir))} ...)",
            highlight=False,
            markup=False,
        )
        ctx.exit(code)
        return
    print_tables(_tables(result))
    figures = sorted(str(f) for f in result.files if f.suffix in (".svg", ".png"))
    err_console.print(
        f"{len(result.units)} units: {result.computed} computed, {len(result.units) - result.computed} reused, "
        f"{result.seconds:.1f}s; {len(figures)} figures and the tables in {result.run_dir / 'analyses'}",
        highlight=False,
        markup=False,
    )
