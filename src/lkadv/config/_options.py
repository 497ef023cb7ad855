"""Run options, from command-line flags, ``LKADV_*`` variables and a TOML file.

Precedence: flag > environment variable > config file > default. Every value is
checked where it enters, and an error names its source (the flag, the variable
or the file and key) and what would be valid.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lkadv.errors import ConfigError
from lkadv.types import PRECISIONS, Precision

__all__ = [
    "CONFIG_VARIABLE",
    "CORRUPTION_PROTOCOLS",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "FILE_TABLES",
    "PRECISIONS",
    "RunOptions",
    "default_cache_dir",
    "lkadv_environment",
    "load_options",
    "option_sources",
    "option_variable",
    "parse_bool",
    "parse_eps",
    "parse_params",
]

DEFAULT_CONFIG_FILE = "lkadv.toml"
CONFIG_VARIABLE = "LKADV_CONFIG"
BAD_IMAGE = ("fail", "skip")
ENV_PREFIX = "LKADV_"
CORRUPTION_PROTOCOLS = ("released", "uint8", "float")
"""How corrupted images are stored before scoring (see :mod:`lkadv.corruptions._protocol`)."""


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where prepared data lives when ``cache_dir`` is ``auto``: ``$XDG_CACHE_HOME/lkadv/prepared``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "lkadv" / "prepared"


@dataclass(frozen=True)
class RunOptions:
    """Everything that defines a run.

    Attributes:
        models: Model selector (``all``, names, globs, ``tag:``, ``preset:``, ``timm:``).
        dataset: Dataset name.
        attacks: Attack selector, or None for no attacks.
        eps: Radii in pixel units (default: the dataset's grid for the attack's norm).
        attack_params: Parameter overrides by attack name (flags, environment, API): naming
            an attack the run does not select is an error.
        attack_defaults: Parameters by attack name from a config file's ``[attacks]``: applied
            to the attacks the run selects, under ``attack_params``; the rest are ignored, so
            one shared file serves runs of any attacks.
        corruptions: Corruption selector, or None.
        severities: Corruption severities.
        corruption_protocol: How a corrupted image is stored before a model sees
            it: ``released`` (8-bit truncation then JPEG quality 85, as the
            published ImageNet-C files; the default), ``uint8`` or ``float``.
        mce_baseline: Model of the run that normalizes CE/mCE (default: the
            dataset's, or AlexNet's published errors in the ImageNet label space).
        limit: Number of samples (a seeded class-balanced subset); 0 means all;
            None means the dataset's default.
        seed: Base seed; every cell and unit derives its own from it.
        precision: Attack precision: ``fp32``, ``bf16`` or ``fp16`` (scoring is fp32).
        shadow_samples: Under bf16/fp16, each attack cell also attacks this many
            clean-correct samples of its first shard at fp32 and at the reduced
            precision, and records how far the two robust accuracies diverge (0: off).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
        batch_size: Batch size (default: the dataset's).
        shard_size: Samples per unit of work and storage (default: batch size).
        run_dir: Run directory holding the ledger.
        executor: Executor name (``auto``: ``processes`` when more than one GPU is
            visible and the device is ``auto``, else ``local``).
        devices: Devices of a multi-worker executor, one worker each: ``auto``
            (every visible GPU), ``cuda:0,cuda:1``, ``cpu,cpu``.
        ray_address: Ray cluster for ``--executor ray`` (default: ``RAY_ADDRESS``, else a local instance).
        data_roots: Dataset roots by dataset name (from the config file's ``[data]``).
        strict_plugins: Fail on any plugin error.
        subset: A named fixed subset instead of ``--limit``: ``fixed-5k`` (5,000
            samples, class-balanced, chosen by a hash of the sample ids, the same
            on every machine), ``fixed-N``, or ``file:PATH`` (one sample id a line).
        on_bad_image: ``fail`` (a corrupt image stops the run with its path) or
            ``skip`` (it is left out and counted in the run's record).
        cache_dir: Prepared-data cache: ``auto`` (``$XDG_CACHE_HOME/lkadv/prepared``),
            a folder, or ``off``.
        workers: Image-decoding worker processes (default: up to 8, one core spared).
        source_models: Transfer sources (a model selector): each attack is crafted on
            every source, saved as 8-bit images and scored on every model of the run
            (sources included); None runs attacks white-box on each model.
        save_examples: Attack cells save the adversarial examples of their first
            this many samples as 8-bit images in the run directory (0: none).
        craft: Whether transfer examples missing from the run directory may be crafted
            (``lkadv rescore`` turns it off: it only scores saved examples).
        fold_bn: Native attacks differentiate a BatchNorm-folded copy of each model
            (how they compute, not what: not in any cell's identity).
        cpu_lanes: Lanes a CPU gradient pass is split into (None: one per torch
            thread; 1: no split). Not in any cell's identity either.
        max_attempts: Times a unit may take a worker down (multi-worker executors)
            before its cell is failed.
        hang_seconds: A busy worker silent this long is killed and its task re-queued.
        environment: The ``LKADV_*`` variables as they were when the options were
            made (dataset roots are found in it), so a worker elsewhere sees the
            same settings without reading its own environment.
    """

    models: str = "all"
    dataset: str = "fashion-mnist"
    attacks: str | None = None
    eps: tuple[float, ...] | None = None
    attack_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    attack_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    corruptions: str | None = None
    severities: tuple[int, ...] = (1, 2, 3, 4, 5)
    corruption_protocol: str = "released"
    mce_baseline: str | None = None
    limit: int | None = None
    seed: int = 0
    precision: Precision = "fp32"
    shadow_samples: int = 64
    device: str = "auto"
    batch_size: int | None = None
    shard_size: int | None = None
    run_dir: Path = Path("lkadv-runs")
    executor: str = "auto"
    devices: str = "auto"
    ray_address: str | None = None
    data_roots: Mapping[str, str] = field(default_factory=dict)
    strict_plugins: bool = False
    subset: str | None = None
    on_bad_image: str = "fail"
    cache_dir: str = "auto"
    workers: int | None = None
    fold_bn: bool = True
    cpu_lanes: int | None = None
    max_attempts: int = 3
    hang_seconds: float = 1800.0
    source_models: str | None = None
    save_examples: int = 0
    craft: bool = True
    environment: Mapping[str, str] = field(default_factory=lambda: lkadv_environment())

    def __post_init__(self) -> None:
        # The Python API takes what a user types (run_dir="runs", eps="8/255", severities="1,3"):
        # every field goes through the same converter as a flag, so both routes give equal options.
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None and f.name in _CONVERTERS:
                object.__setattr__(self, f.name, _CONVERTERS[f.name](value, f"RunOptions({f.name}=...)"))

    def prepared_cache(self) -> Path | None:
        """The prepared-data cache folder, or None when caching is off."""
        if self.cache_dir.strip().lower() in ("off", "none", ""):
            return None
        if self.cache_dir.strip().lower() == "auto":
            return default_cache_dir()
        return Path(self.cache_dir).expanduser()

    def decode_workers(self) -> int:
        """Decoding worker processes to use."""
        if self.workers is not None:
            return self.workers
        return min(8, max(0, (os.cpu_count() or 1) - 1))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = dataclasses.asdict(self)
        out["run_dir"] = str(self.run_dir)
        out["eps"] = list(self.eps) if self.eps is not None else None
        out["severities"] = list(self.severities)
        out["attack_params"] = {k: dict(v) for k, v in self.attack_params.items()}
        out["attack_defaults"] = {k: dict(v) for k, v in self.attack_defaults.items()}
        out["data_roots"] = dict(self.data_roots)
        out["environment"] = dict(self.environment)
        return out


def parse_eps(value: Any, source: str) -> tuple[float, ...]:
    """Parse radii: ``"1/255,2/255,0.03"`` or a list of numbers/fractions.

    Raises:
        ConfigError: Naming ``source`` if a value is not a non-negative number.
    """
    items = _items(value, source, "radii like 1/255,2/255")
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


def _int(value: Any, source: str, minimum: int = 0) -> int:
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


def _items(value: Any, source: str, example: str) -> list[Any]:
    """A comma list or a TOML list as items; a single number is one item."""
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [value]
    raise ConfigError(f"{source}: expected {example}, got {value!r}")


def _severities(value: Any, source: str) -> tuple[int, ...]:
    items = _items(value, source, "severities like 1,3,5")
    out = sorted({_int(v, source, 1) for v in items if str(v).strip()})
    if not out:
        raise ConfigError(f"{source}: no severities given")
    return tuple(out)


def _optional_selector(value: Any, source: str) -> str | None:
    text = str(value).strip()
    if text.lower() in ("", "none"):
        return None
    return text


_CONVERTERS: dict[str, Any] = {
    "models": lambda v, s: str(v).strip(),
    "dataset": lambda v, s: str(v).strip(),
    "attacks": _optional_selector,
    "eps": parse_eps,
    "attack_params": parse_params,
    "attack_defaults": parse_params,
    "corruptions": _optional_selector,
    "severities": _severities,
    "corruption_protocol": lambda v, s: _choice(v, s, CORRUPTION_PROTOCOLS),
    "mce_baseline": _optional_selector,
    "limit": lambda v, s: _int(v, s, 0),
    "seed": lambda v, s: _int(v, s, 0),
    "precision": lambda v, s: _choice(v, s, PRECISIONS),
    "shadow_samples": lambda v, s: _int(v, s, 0),
    "device": lambda v, s: str(v).strip(),
    "batch_size": lambda v, s: _int(v, s, 1),
    "shard_size": lambda v, s: _int(v, s, 1),
    "run_dir": lambda v, s: _run_dir(v, s),
    "executor": lambda v, s: str(v).strip(),
    "devices": lambda v, s: str(v).strip(),
    "ray_address": _optional_selector,
    "data_roots": lambda v, s: _roots(v, s),
    "strict_plugins": parse_bool,
    "subset": _optional_selector,
    "on_bad_image": lambda v, s: _choice(v, s, BAD_IMAGE),
    "cache_dir": lambda v, s: str(v).strip(),
    "workers": lambda v, s: _int(v, s, 0),
    "fold_bn": parse_bool,
    "cpu_lanes": lambda v, s: _int(v, s, 1),
    "max_attempts": lambda v, s: _int(v, s, 1),
    "hang_seconds": lambda v, s: _positive(v, s),
    "environment": lambda v, s: _environment(v, s),
    "source_models": lambda v, s: _source_selector(v, s),
    "save_examples": lambda v, s: _int(v, s, 0),
    "craft": parse_bool,
}


def lkadv_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``LKADV_*`` variables of ``env`` (default: this process's environment)."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}


def _environment(value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: expected a mapping of LKADV_* variables")
    return {str(k): str(v) for k, v in value.items() if str(k).startswith(ENV_PREFIX)}


def _source_selector(value: Any, source: str) -> str:
    text = str(value).strip()
    if not text or text.lower() == "none":
        raise ConfigError(f"{source}: names no model; give the models to craft on, e.g. --source-models fm-resnet")
    return text


def _positive(value: Any, source: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: expected a positive number, got {value!r}") from exc
    if not (out > 0 and math.isfinite(out)):
        raise ConfigError(f"{source}: expected a positive number, got {value!r}")
    return out


def _run_dir(value: Any, source: str) -> Path:
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{source}: the run directory is empty; give a folder, e.g. --run-dir lkadv-runs")
    return Path(text).expanduser()


def _choice(value: Any, source: str, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise ConfigError(f"{source}: expected one of {', '.join(choices)}, got {value!r}")
    return text


def _roots(value: Any, source: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{source}: expected a table of dataset = path")
    return {str(k): str(Path(str(v)).expanduser()) for k, v in value.items()}


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
        if key not in _CONVERTERS or key in _TABLES:
            known = ", ".join(k for k in _CONVERTERS if k not in _TABLES)
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
    return RunOptions(**{key: _CONVERTERS[key](value, source) for key, (value, source) in raw.items()})


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
    for key in _CONVERTERS:
        name = option_variable(key)
        if key not in FILE_TABLES and key != "environment" and name in env:
            raw[key] = (env[name], f"environment variable {name}")
    raw["environment"] = (lkadv_environment(env), "environment")
    for key, value in (cli or {}).items():
        if key not in _CONVERTERS or key == "environment":
            raise ConfigError(f"unknown run option {key!r}")
        if value is not None:
            raw[key] = (value, f"option --{key.replace('_', '-')}")
    return raw
