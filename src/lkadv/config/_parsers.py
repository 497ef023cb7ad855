"""Parsers of setting values: each takes what a flag, a variable or a TOML file gives, and the source to name.

Every parser raises :class:`~lkadv.errors.ConfigError` naming the source (the
flag, the variable, the file and key) and what would be valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lkadv.errors import ConfigError

__all__ = [
    "ENV_PREFIX",
    "parse_bool",
    "parse_choice",
    "parse_environment",
    "parse_eps",
    "parse_int",
    "parse_items",
    "parse_optional_selector",
    "parse_params",
    "parse_positive",
    "parse_roots",
    "parse_run_dir",
    "parse_severities",
    "parse_source_selector",
]

ENV_PREFIX = "LKADV_"


def parse_eps(value: Any, source: str) -> tuple[float, ...]:
    """Parse radii: ``"1/255,2/255,0.03"`` or a list of numbers/fractions.

    Raises:
        ConfigError: Naming ``source`` if a value is not a non-negative number.
    """
    items = parse_items(value, source, "radii like 1/255,2/255")
    out = []
    for item in items:
        if isinstance(item, bool):
            raise ConfigError(f"{source}: {item!r} is not a radius; use numbers or fractions like 2/255")
        text = str(item).strip()
        if not text:
            continue
        try:
            if "/" in text:
                num, den = text.split("/", 1)
                eps = float(num) / float(den)
            else:
                eps = float(text)
        except (ValueError, ZeroDivisionError) as exc:
            raise ConfigError(f"{source}: {text!r} is not a radius; use numbers or fractions like 2/255") from exc
        if not (eps >= 0 and math.isfinite(eps)):
            raise ConfigError(f"{source}: eps must be a finite number >= 0, got {text!r}")
        out.append(eps)
    if not out:
        raise ConfigError(f"{source}: no eps given")
    return tuple(sorted(set(out)))


def parse_params(value: Any, source: str) -> dict[str, dict[str, Any]]:
    """Parse attack parameters: ``"pgd.steps=20,pgd.restarts=2"`` or ``{"pgd": {"steps": 20}}``.

    Raises:
        ConfigError: Naming ``source`` on a malformed entry.
    """
    if isinstance(value, Mapping):
        out: dict[str, dict[str, Any]] = {}
        for attack, params in value.items():
            if not isinstance(params, Mapping):
                raise ConfigError(f"{source}: [attacks.{attack}] must be a table of parameters")
            out[str(attack)] = dict(params)
        return out
    items = value.split(",") if isinstance(value, str) else list(value)
    parsed: dict[str, dict[str, Any]] = {}
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        key, sep, val = text.partition("=")
        attack, dot, param = key.strip().partition(".")
        if not sep or not dot or not attack or not param:
            raise ConfigError(f"{source}: {text!r} is not ATTACK.PARAM=VALUE (e.g. pgd.steps=20)")
        parsed.setdefault(attack, {})[param] = val.strip()
    return parsed


def parse_int(value: Any, source: str, minimum: int = 0) -> int:
    try:
        out = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError as exc:
        raise ConfigError(f"{source}: expected an integer, got {value!r}") from exc
    if isinstance(out, bool) or out < minimum:
        raise ConfigError(f"{source}: expected an integer >= {minimum}, got {value!r}")
    return out


def parse_bool(value: Any, source: str) -> bool:
    """The one reading of a yes/no setting (flags, ``LKADV_*`` variables, config files, the host).

    The words click accepts for a flag's environment variable, so ``LKADV_STRICT_PLUGINS=y``
    means the same through every route.

    Raises:
        ConfigError: Naming ``source`` for anything else.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off", ""):
        return False
    raise ConfigError(f"{source}: expected true or false (1/0, yes/no, on/off), got {value!r}")


def parse_items(value: Any, source: str, example: str) -> list[Any]:
    """A comma list or a TOML list as items; a single number is one item."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    raise ConfigError(f"{source}: expected {example}, got {value!r}")


def parse_severities(value: Any, source: str) -> tuple[int, ...]:
    items = parse_items(value, source, "severities like 1,3,5")
    out = sorted({parse_int(v, source, 1) for v in items if str(v).strip()})
    if not out:
        raise ConfigError(f"{source}: no severities given")
    return tuple(out)


def parse_optional_selector(value: Any, source: str) -> str | None:
    text = str(value).strip()
    if text.lower() in ("", "none"):
        return None
    return text


def parse_environment(value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: expected a mapping of LKADV_* variables")
    return {str(k): str(v) for k, v in value.items() if str(k).startswith(ENV_PREFIX)}


def parse_source_selector(value: Any, source: str) -> str:
    text = str(value).strip()
    if not text or text.lower() == "none":
        raise ConfigError(f"{source}: names no model; give the models to craft on, e.g. --source-models fm-resnet")
    return text


def parse_positive(value: Any, source: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: expected a positive number, got {value!r}") from exc
    if not (out > 0 and math.isfinite(out)):
        raise ConfigError(f"{source}: expected a positive number, got {value!r}")
    return out


def parse_run_dir(value: Any, source: str) -> Path:
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{source}: the run directory is empty; give a folder, e.g. --run-dir lkadv-runs")
    return Path(text).expanduser()


def parse_choice(value: Any, source: str, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ConfigError(f"{source}: expected one of {', '.join(choices)}, got {value!r}")
    return text


def parse_roots(value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: expected a table of dataset = path")
    return {str(k): str(Path(str(v)).expanduser()) for k, v in value.items()}
