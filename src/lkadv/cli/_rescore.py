"""``lkadv rescore``: score a run's saved transfer examples on more models, without crafting."""

from __future__ import annotations

from pathlib import Path

import click

from lkadv.cli._common import err_console, finish_run, get_host

__all__ = ["rescore_cmd"]


@click.command("rescore")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("-m", "--models", required=True, help="Models to score the saved examples on (selector).")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.pass_context
def rescore_cmd(ctx: click.Context, run_dir: Path, models: str, quiet: bool) -> None:
    """Score the saved 8-bit examples of the run in RUN_DIR on further models (nothing is crafted)."""
    from lkadv.reporters import make_progress
    from lkadv.runner import rescore

    result = rescore(run_dir, models, host=get_host(ctx), progress=make_progress(err_console, quiet) or False)
    finish_run(ctx, result, "scored")
