"""Every ``LKADV_*`` variable lkadv reads, declared once, and where each setting's value came from.

Run options (``LKADV_<OPTION>``, see :class:`~lkadv.config.RunOptions`) are read
by :func:`~lkadv.config.load_options`. The few settings that are not run options
(where downloads are cached, which plugins load, dataset roots) are named here
and read through the functions below, so no other module looks at the process
environment for an ``LKADV_*`` name.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lkadv.config._loading import FILE_TABLES, load_options, option_sources, option_variable
from lkadv.config._options import CONFIG_VARIABLE, RunOptions
from lkadv.config._parsers import ENV_PREFIX, parse_bool

__all__ = [
    "CACHE_VARIABLE",
    "DATA_ROOT_VARIABLE",
    "DISABLE_PLUGINS_VARIABLE",
    "LOAD_PLUGINS_VARIABLE",
    "OTHER_VARIABLES",
    "SettingValue",
    "data_variable",
    "download_cache",
    "env_bool",
    "env_names",
    "explain_settings",
]

CACHE_VARIABLE = "LKADV_CACHE"
DATA_ROOT_VARIABLE = "LKADV_DATA_ROOT"
LOAD_PLUGINS_VARIABLE = "LKADV_LOAD_PLUGINS"
DISABLE_PLUGINS_VARIABLE = "LKADV_DISABLE_PLUGINS"

# The variables that are not run options, with what they set.
OTHER_VARIABLES: Mapping[str, str] = {
    CONFIG_VARIABLE: "the config file (default ./lkadv.toml when present)",
    CACHE_VARIABLE: "download cache for weights (default ~/.cache/lkadv)",
    DATA_ROOT_VARIABLE: "a folder holding every dataset under its conventional folder name",
    LOAD_PLUGINS_VARIABLE: "load only these entry-point plugins (comma list)",
    DISABLE_PLUGINS_VARIABLE: "skip these entry-point plugins (comma list)",
}


def data_variable(dataset: str) -> str:
    """The variable naming one dataset's root: ``LKADV_DATA_<NAME>``."""
    return f"{ENV_PREFIX}DATA_" + dataset.upper().replace("-", "_").replace(".", "_")


def download_cache(env: Mapping[str, str] | None = None) -> Path:
    """The download cache: ``$LKADV_CACHE`` or ``~/.cache/lkadv``."""
    env = os.environ if env is None else env
    return Path(env.get(CACHE_VARIABLE) or Path.home() / ".cache" / "lkadv")


def env_names(name: str, env: Mapping[str, str] | None = None) -> set[str] | None:
    """A comma-list variable as a set of names, or None when it is not set."""
    env = os.environ if env is None else env
    value = env.get(name)
    if value is None:
        return None
    return {v.strip() for v in value.split(",") if v.strip()}


def env_bool(name: str, env: Mapping[str, str] | None = None) -> bool:
    """A yes/no variable through the one boolean parser (unset: no).

    Raises:
        ConfigError: Naming the variable for a value that is neither.
    """
    env = os.environ if env is None else env
    return parse_bool(env.get(name, ""), f"environment variable {name}")


@dataclass(frozen=True)
class SettingValue:
    """One setting as lkadv sees it now.

    Attributes:
        name: The run option (``precision``) or the variable (``LKADV_CACHE``).
        value: Its value as a string (``-`` when unset).
        source: ``option --x``, ``environment variable LKADV_X``, a config file key, or ``default``.
        variable: The environment variable that sets it.
    """

    name: str
    value: str
    source: str
    variable: str


def explain_settings(
    cli: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> list[SettingValue]:
    """Every run option and every other ``LKADV_*`` setting, with its value and source.

    Raises:
        ConfigError: If a setting holds a value lkadv would refuse.
    """
    env = os.environ if env is None else env
    options: RunOptions = load_options(cli, env=env, config_file=config_file)
    sources = option_sources(cli, env=env, config_file=config_file)
    rows = []
    for f in dataclasses.fields(RunOptions):
        if f.name == "environment":
            continue
        value = options.as_dict()[f.name]
        shown = "-" if value in (None, {}, []) else str(value)
        variable = f"config file {FILE_TABLES[f.name]}" if f.name in FILE_TABLES else option_variable(f.name)
        rows.append(SettingValue(f.name, shown, sources[f.name], variable))
    for name in OTHER_VARIABLES:
        rows.append(SettingValue(name, env.get(name, "-"), "environment" if name in env else "default", name))
    return rows
