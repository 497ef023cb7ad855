"""Loading run options: defaults, then the config file, then ``LKADV_*`` variables, then flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lkadv.config._options import CONFIG_VARIABLE, CONVERTERS, DEFAULT_CONFIG_FILE, RunOptions, lkadv_environment
from lkadv.config._parsers import ENV_PREFIX
from lkadv.errors import ConfigError

__all__ = ["FILE_TABLES", "load_options", "option_sources", "option_variable"]


# Options that only come as their own TOML tables ([attacks], [data]), never as [run] keys.
_TABLES = ("attack_params", "attack_defaults", "data_roots", "environment")


# ... and of those, the ones a config file alone gives (no variable, no flag).
FILE_TABLES = {"attack_defaults": "[attacks]", "data_roots": "[data]"}


def option_variable(key: str) -> str:
    """The environment variable of a run option: ``LKADV_<KEY>``."""
    return ENV_PREFIX + key.upper()


def _read_config(path: Path, explicit: bool) -> dict[str, tuple[Any, str]]:
    if not path.is_file():
        if explicit:
            raise ConfigError(f"config file {path} does not exist")
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    values: dict[str, tuple[Any, str]] = {}
    run = data.get("run", {})
    if not isinstance(run, Mapping):
        raise ConfigError(f"config file {path}: [run] must be a table")
    for key, value in run.items():
        if key not in CONVERTERS or key in _TABLES:
            known = ", ".join(k for k in CONVERTERS if k not in _TABLES)
            raise ConfigError(f"config file {path}: unknown key [run].{key} (known: {known})")
        values[key] = (value, f"{path} [run].{key}")
    if "attacks" in data:
        values["attack_defaults"] = (data["attacks"], f"{path} [attacks]")
    if "data" in data:
        values["data_roots"] = (data["data"], f"{path} [data]")
    unknown_tables = sorted(set(data) - {"run", "attacks", "data"})
    if unknown_tables:
        raise ConfigError(f"config file {path}: unknown table(s) {unknown_tables} (known: run, attacks, data)")
    return values


def load_options(
    cli: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> RunOptions:
    """Merge defaults, the config file, ``LKADV_*`` variables and flags.

    Args:
        cli: Flag values by option name; ``None`` values mean "not given".
        env: Environment (default: ``os.environ``).
        config_file: TOML file (default: ``$LKADV_CONFIG`` or ``./lkadv.toml`` if present).

    Returns:
        The checked options.

    Raises:
        ConfigError: Naming the source of the first invalid value.
    """
    raw = _gather(cli, env, config_file)
    return RunOptions(**{key: CONVERTERS[key](value, source) for key, (value, source) in raw.items()})


def option_sources(
    cli: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> dict[str, str]:
    """Where each run option's value comes from: a flag, a variable, a file key, or ``default``.

    Args:
        cli: Flag values by option name, as for :func:`load_options`.
        env: Environment (default: ``os.environ``).
        config_file: TOML file, as for :func:`load_options`.

    Returns:
        Source by option name, for every field of :class:`RunOptions`.
    """
    raw = _gather(cli, env, config_file)
    return {f.name: raw[f.name][1] if f.name in raw else "default" for f in dataclasses.fields(RunOptions)}


def _gather(
    cli: Mapping[str, Any] | None, env: Mapping[str, str] | None, config_file: Path | None
) -> dict[str, tuple[Any, str]]:
    """Raw values with their sources, later sources overriding earlier ones."""
    env = os.environ if env is None else env
    explicit = config_file is not None or CONFIG_VARIABLE in env
    path = config_file or Path(env.get(CONFIG_VARIABLE, DEFAULT_CONFIG_FILE))
    raw: dict[str, tuple[Any, str]] = _read_config(path, explicit)
    for key in CONVERTERS:
        name = option_variable(key)
        if key not in FILE_TABLES and key != "environment" and name in env:
            raw[key] = (env[name], f"environment variable {name}")
    raw["environment"] = (lkadv_environment(env), "environment")
    for key, value in (cli or {}).items():
        if key not in CONVERTERS or key == "environment":
            raise ConfigError(f"unknown run option {key!r}")
        if value is not None:
            raw[key] = (value, f"option --{key.replace('_', '-')}")
    return raw
