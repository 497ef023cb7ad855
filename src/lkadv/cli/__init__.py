"""The ``lkadv`` command: thin click commands over the library API."""

from __future__ import annotations

import logging
import warnings

import click

from lkadv._version import __version__
from lkadv.cli._analyze import analyze_cmd
from lkadv.cli._common import LkadvGroup, show_warning
from lkadv.cli._compare import compare
from lkadv.cli._doctor import doctor
from lkadv.cli._list import list_cmd
from lkadv.cli._plugins import plugins
from lkadv.cli._report import report
from lkadv.cli._rescore import rescore_cmd
from lkadv.cli._run import run_cmd
from lkadv.config import option_variable

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
@click.option(
    "--strict-plugins", is_flag=True, envvar=option_variable("strict_plugins"), help="Fail when any plugin is broken."
)
@click.option("-v", "--verbose", is_flag=True, help="Log debugging details (plugin tracebacks...).")
@click.pass_context
def main(ctx: click.Context, plugin_opts: tuple[str, ...], strict_plugins: bool, verbose: bool) -> None:
    """lkadv: robustness of image classifiers under attacks and corruptions."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(name)s: %(message)s")
    previous = warnings.showwarning
    warnings.showwarning = show_warning  # a user warning (an unreachable eps...) reads as lkadv's own
    ctx.call_on_close(lambda: setattr(warnings, "showwarning", previous))
    ctx.ensure_object(dict)
    ctx.obj["plugins"] = plugin_opts
    ctx.obj["strict"] = strict_plugins


main.add_command(plugins)
main.add_command(list_cmd)
main.add_command(run_cmd)
main.add_command(report)
main.add_command(compare)
main.add_command(rescore_cmd)
main.add_command(doctor)
main.add_command(analyze_cmd)
