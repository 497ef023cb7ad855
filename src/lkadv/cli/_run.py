"""``lkadv run``: plan, run (or resume) and report the benchmark matrix."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from lkadv._signals import terminate_as_interrupt
from lkadv.cli._common import err_console, finish_run, get_host, out_console, print_tables
from lkadv.config import load_options, parse_params
from lkadv.errors import ConfigError, LkadvError, RunInterrupted
from lkadv.types import PRECISIONS

__all__ = ["run_cmd"]


def _previous_options(run_dir: Path) -> dict[str, Any]:
    from lkadv.store import Ledger

    with Ledger(run_dir) as ledger:
        options = dict(ledger.run()["plan"]["options"])
    options.pop("run_dir", None)
    options.pop("craft", None)  # `lkadv rescore` turns crafting off for its own run only
    return options


@click.command("run")
@click.option("-m", "--models", default=None, help="Models: all, names, globs ('fm-*'), tag:T, preset:P, timm:NAME.")
@click.option("-d", "--dataset", default=None, help="Dataset name (default: fashion-mnist).")
@click.option("-a", "--attacks", default=None, help="Attacks to run (selector), e.g. pgd or fgsm,pgd.")
@click.option(
    "--source-models",
    default=None,
    help="Transfer: craft each attack on these models (selector), save 8-bit examples, score them on every model.",
)
@click.option(
    "--save-examples",
    default=None,
    type=int,
    help="Attack cells save the 8-bit adversarial examples of their first N samples in the run directory.",
)
@click.option("--eps", default=None, help="Radii in pixel units, e.g. 1/255,2/255 (default: the dataset's grid).")
@click.option("--attack-param", "attack_params", multiple=True, help="ATTACK.PARAM=VALUE, e.g. pgd.steps=20.")
@click.option("-c", "--corruptions", default=None, help="Corruptions to apply (selector).")
@click.option("--severities", default=None, help="Corruption severities, e.g. 1,3,5.")
@click.option(
    "--corruption-protocol",
    default=None,
    type=click.Choice(["released", "uint8", "float"]),
    help="How corrupted images are stored: released (8-bit + JPEG q85, as ImageNet-C's files; default), uint8, float.",
)
@click.option(
    "--mce-baseline",
    default=None,
    help="Model of the run that normalizes CE/mCE (default: the dataset's; AlexNet's errors on ImageNet).",
)
@click.option("--limit", default=None, type=int, help="Samples: a seeded class-balanced subset; 0 for all.")
@click.option(
    "--subset", default=None, help="Fixed subset instead of --limit: fixed-5k, fixed-N or file:PATH (ids, one a line)."
)
@click.option("--seed", default=None, type=int, help="Base seed (default 0).")
@click.option("--precision", default=None, type=click.Choice(PRECISIONS), help="Attack precision.")
@click.option(
    "--shadow-samples",
    default=None,
    type=int,
    help="Under bf16/fp16: samples per attack cell re-attacked at fp32 to measure the divergence (default 64).",
)
@click.option("--device", default=None, help="auto, cpu, cuda, cuda:N or mps.")
@click.option("--batch-size", default=None, type=int, help="Batch size.")
@click.option("--shard-size", default=None, type=int, help="Samples per unit of work and storage.")
@click.option("--run-dir", default=None, help="Run directory (default lkadv-runs).")
@click.option(
    "--executor",
    default=None,
    help="local, processes (one worker per device), ray; default auto: processes with more than one GPU, else local.",
)
@click.option("--devices", default=None, help="Workers' devices: auto (every GPU), cuda:0,cuda:1 or cpu,cpu.")
@click.option("--ray-address", default=None, help="Ray cluster for --executor ray (default RAY_ADDRESS, else local).")
@click.option(
    "--on-bad-image",
    default=None,
    type=click.Choice(["fail", "skip"]),
    help="A corrupt image stops the run (fail, default) or is left out and counted (skip).",
)
@click.option("--cache-dir", default=None, help="Prepared-data cache: auto (default), a folder, or off.")
@click.option("--workers", default=None, type=int, help="Image-decoding worker processes.")
@click.option("--config", "config_file", default=None, type=click.Path(path_type=Path), help="TOML config file.")
@click.option("--resume", is_flag=True, help="Resume the latest run in --run-dir with its options.")
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.option(
    "--dry-run", is_flag=True, help="Show the plan (cells, units, what the run directory already holds); run nothing."
)
@click.pass_context
def run_cmd(
    ctx: click.Context, /, config_file: Path | None, resume: bool, quiet: bool, dry_run: bool, **flags: Any
) -> None:
    """Run the models x threats matrix; finished units are reused, never recomputed."""
    from lkadv.reporters import make_progress
    from lkadv.runner import run

    if flags["attack_params"]:
        flags["attack_params"] = parse_params(list(flags["attack_params"]), "option --attack-param")
    else:
        flags["attack_params"] = None
    flags["strict_plugins"] = ctx.obj.get("strict") or None
    options = load_options(flags, config_file=config_file)
    if resume:
        if not (options.run_dir / "ledger.sqlite").is_file():
            raise ConfigError(f"--resume: {options.run_dir} holds no run to resume; give --run-dir of an earlier run")
        base = _previous_options(options.run_dir)
        given = {k: v for k, v in flags.items() if v is not None and k != "strict_plugins"}
        options = load_options({**base, **given, "run_dir": options.run_dir}, env={}, config_file=None)
    host = get_host(ctx)
    if dry_run:
        _show_plan(options, host)
        return
    try:
        with terminate_as_interrupt():
            result = run(options, host=host, progress=make_progress(err_console, quiet) or False)
    except KeyboardInterrupt as exc:  # SIGINT, or SIGTERM (a cluster's preemption) raised as RunInterrupted
        _interrupted(ctx, options.run_dir, exc)
        return
    finish_run(ctx, result, "computed")


def _interrupted(ctx: click.Context, run_dir: Path, exc: KeyboardInterrupt) -> None:
    """Show what is finished and how to go on, then exit 128 + the signal number (130, 143)."""
    from lkadv.metrics import summarize
    from lkadv.reporters import rich_tables
    from lkadv.store import Ledger

    code = exc.exit_code if isinstance(exc, RunInterrupted) else 130
    name = exc.signal_name if isinstance(exc, RunInterrupted) else "SIGINT"
    if (run_dir / "ledger.sqlite").is_file():
        try:
            with Ledger(run_dir) as ledger:
                summary = summarize(ledger)
            print_tables(rich_tables(summary, brief=True, width=out_console.width))
        except LkadvError:
            pass  # interrupted before the run was recorded: nothing to show
    err_console.print(
        f"interrupted by {name}: every finished unit is committed in {run_dir}. "
        f"Resume with: lkadv run --resume --run-dir {shlex.quote(str(run_dir))}",
        highlight=False,
        markup=False,
    )
    ctx.exit(code)


def _show_plan(options: Any, host: Any) -> None:
    """``--dry-run``: every cell with the units the run directory holds and those to compute; writes nothing."""
    from rich.table import Table

    from lkadv.reporters import as_text
    from lkadv.runner import dry_run

    found = dry_run(options, host=host)
    plan = found.plan
    table = Table(
        title=as_text(
            f"plan: {len(plan.cells)} cells x {plan.n_shards} units of <= {plan.shard_size} samples "
            f"({len(plan.subset)} of {plan.dataset.name}) in {options.run_dir}"
        ),
        title_justify="left",
    )
    for column in ("model", "threat", "reused", "to compute"):
        table.add_column(column, overflow="fold")
    for model, threat, reused, units in found.rows():
        table.add_row(as_text(model), as_text(threat), str(reused), str(units - reused))
    out_console.print(table)
    total = len(plan.cells) * plan.n_shards
    reused = sum(r[2] for r in found.rows())
    for name, error in found.failures.items():
        err_console.print(as_text(f"model {name}: {error}", "red"), soft_wrap=True)
    err_console.print(
        as_text(f"dry run: {total - reused} units to compute, {reused} reused; nothing was run or written"),
        soft_wrap=True,
    )
