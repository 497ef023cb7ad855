"""``lkadv report``: a finished (or partial) run in any registered format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lkadv.cli._common import format_for_output, get_host, out_console, print_tables, write_output
from lkadv.cli._report_extras import (
    add_sections,
    default_per_class,
    large_kernel_models,
    split_pair,
    write_plots_to,
)
from lkadv.config import lkadv_environment, option_variable
from lkadv.errors import ConfigError
from lkadv.reporters import as_text
from lkadv.types import resolve

__all__ = ["report"]

_HTML = "lkadv.reporters._html:render_html"  # the built-in page: large kernels marked, per-class table by default


@click.command("report")
@click.argument("run_dir", required=False, default=None, type=click.Path(path_type=Path))
@click.option(
    "--run-dir",
    "run_dir_opt",
    default=None,
    type=click.Path(path_type=Path),
    help="The run directory, as `lkadv run` takes it (default: $LKADV_RUN_DIR, else lkadv-runs).",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    default=None,
    help="terminal, md, csv, json, html; per sample: jsonl, samples-csv, parquet; or a plugin's format "
    "(default: from the -o suffix, else terminal).",
)
@click.option("--run-id", default=None, type=int, help="Run to report (default: the latest).")
@click.option("-o", "--output", default=None, type=click.Path(path_type=Path), help="Write to a file.")
@click.option(
    "--benchmarks", is_flag=True, help="A models x benchmarks table over every run in RUN_DIR (terminal or json)."
)
@click.option("--pair", default=None, metavar="A,B", help="Add a paired comparison of two models (exact McNemar).")
@click.option("--per-class", default=None, metavar="THREAT", help="Add per-class accuracy at a threat (e.g. clean).")
@click.option(
    "--plots", default=None, type=click.Path(path_type=Path), help="Also write each figure as SVG and PNG into DIR."
)
@click.pass_context
def report(
    ctx: click.Context,
    run_dir: Path | None,
    run_dir_opt: Path | None,
    fmt: str | None,
    run_id: int | None,
    output: Path | None,
    benchmarks: bool,
    pair: str | None,
    per_class: str | None,
    plots: Path | None,
) -> None:
    """Report the run in RUN_DIR (default: --run-dir, $LKADV_RUN_DIR, else lkadv-runs)."""
    from lkadv.metrics import summarize
    from lkadv.reporters import rich_tables, saved_examples
    from lkadv.store import Ledger, sample_rows

    host = get_host(ctx, warn=fmt in (None, "terminal"))
    run_dir = _run_dir(run_dir, run_dir_opt)
    fmt = fmt or _format_for(host, output)
    if benchmarks:
        _benchmarks(host, run_dir, fmt, output)
        return
    spec = host.registries.reporters.get(fmt)
    render = resolve(spec.render)
    pair_models = split_pair(pair)
    with Ledger(run_dir) as ledger:
        if spec.per_sample:
            text = render(sample_rows(ledger, run_id))
        else:
            summary = summarize(ledger, run_id, host)
            if per_class is None and spec.render == _HTML:
                per_class = default_per_class(summary, ledger)
            add_sections(summary, ledger, pair_models, per_class)
            if plots is not None:
                write_plots_to(host, summary, plots)
            if spec.render == _HTML:
                examples = saved_examples(run_dir, summary)  # lkadv run --save-examples N
                text = render(summary, large_kernel=large_kernel_models(host, summary), examples=examples)
            elif fmt == "terminal" and output is None:
                print_tables(rich_tables(summary, width=out_console.width))
                return
            else:
                text = render(summary)
    if isinstance(text, bytes) and output is None:
        raise ConfigError(f"--format {fmt} writes a binary file: give -o FILE{spec.suffix}")
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text)


def _run_dir(argument: Path | None, option: Path | None) -> Path:
    if argument is not None and option is not None and argument != option:
        raise ConfigError(f"two run directories given ({argument} and --run-dir {option}); give one")
    chosen = argument or option or lkadv_environment().get(option_variable("run_dir"), "").strip() or "lkadv-runs"
    return Path(chosen).expanduser()


def _format_for(host: Any, output: Path | None) -> str:
    """The format an output file's suffix asks for, among the registered reporters."""
    return format_for_output(output, {spec.suffix: spec.name for spec in reversed(list(host.registries.reporters))})


def _benchmarks(host: Any, run_dir: Path, fmt: str, output: Path | None) -> None:
    import json

    from rich.table import Table

    from lkadv.metrics import benchmark_table
    from lkadv.store import Ledger

    with Ledger(run_dir) as ledger:
        section = benchmark_table(ledger, host)
    if fmt == "json" or output is not None:
        text = json.dumps(section.as_dict(), indent=2) + "\n"
        if output is None:
            click.echo(text, nl=False)
        else:
            write_output(output, text)
        return
    table = Table(title=as_text(section.title), title_justify="left")
    for column in section.columns:
        table.add_column(as_text(column))
    for row in section.rows:
        table.add_row(*[as_text("-" if v is None else v) for v in row])
    out_console.print(table)
    for note in section.notes:
        out_console.print(as_text(note), highlight=False)
