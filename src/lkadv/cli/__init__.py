"""The ``lkadv`` command: thin click commands over the library API."""

from __future__ import annotations

import logging

import click

from lkadv import __version__
from lkadv.cli._analyze import analyze_cmd
from lkadv.cli._common import LkadvGroup
from lkadv.cli._doctor import doctor
from lkadv.cli._list import list_cmd
from lkadv.cli._plugins import plugins
from lkadv.cli._report import report
from lkadv.cli._run import run_cmd

__all__ = ["main"]


@click.group(cls=LkadvGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lkadv")
@click.option(
    "-p",
    "plugin_opts",
    multiple=True,
    metavar="NAME",
    help="-p no:NAME disables a plugin; -p MODULE loads a module as a plugin.",
)
@click.option("--strict-plugins", is_flag=True, envvar="LKADV_STRICT_PLUGINS", help="Fail when any plugin is broken.")
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details (plugin tracebacks...).")
@click.pass_context
def main(ctx: click.Context, plugin_opts: tuple[str, ...], strict_plugins: bool, verbose: bool) -> None:
    """lkadv: robustness of image classifiers under attacks and corruptions."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["plugins"] = plugin_opts
    ctx.obj["strict"] = strict_plugins


main.add_command(plugins)
main.add_command(list_cmd)
main.add_command(run_cmd)
main.add_command(report)
main.add_command(doctor)
main.add_command(analyze_cmd)
