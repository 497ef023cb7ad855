"""Run options: every field, its default, and the parser each value goes through.

:mod:`lkadv.config._loading` fills them from flags, ``LKADV_*`` variables and a
TOML file (flag > variable > file > default); the Python API's plain values go
through the same parsers, so both routes give equal options.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lkadv.config._parsers import (
    ENV_PREFIX,
    parse_bool,
    parse_choice,
    parse_environment,
    parse_eps,
    parse_int,
    parse_optional_selector,
    parse_params,
    parse_positive,
    parse_roots,
    parse_run_dir,
    parse_severities,
    parse_source_selector,
)
from lkadv.types import PRECISIONS, Precision

__all__ = [
    "CONFIG_VARIABLE",
    "CONVERTERS",
    "CORRUPTION_PROTOCOLS",
    "DEFAULT_CONFIG_FILE",
    "RunOptions",
    "default_cache_dir",
    "lkadv_environment",
]

DEFAULT_CONFIG_FILE = "lkadv.toml"
CONFIG_VARIABLE = "LKADV_CONFIG"
BAD_IMAGE = ("fail", "skip")
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
            if value is not None and f.name in CONVERTERS:
                object.__setattr__(self, f.name, CONVERTERS[f.name](value, f"RunOptions({f.name}=...)"))

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


CONVERTERS: dict[str, Any] = {
    "models": lambda v, s: str(v).strip(),
    "dataset": lambda v, s: str(v).strip(),
    "attacks": parse_optional_selector,
    "eps": parse_eps,
    "attack_params": parse_params,
    "attack_defaults": parse_params,
    "corruptions": parse_optional_selector,
    "severities": parse_severities,
    "corruption_protocol": lambda v, s: parse_choice(v, s, CORRUPTION_PROTOCOLS),
    "mce_baseline": parse_optional_selector,
    "limit": lambda v, s: parse_int(v, s, 0),
    "seed": lambda v, s: parse_int(v, s, 0),
    "precision": lambda v, s: parse_choice(v, s, PRECISIONS),
    "shadow_samples": lambda v, s: parse_int(v, s, 0),
    "device": lambda v, s: str(v).strip(),
    "batch_size": lambda v, s: parse_int(v, s, 1),
    "shard_size": lambda v, s: parse_int(v, s, 1),
    "run_dir": lambda v, s: parse_run_dir(v, s),
    "executor": lambda v, s: str(v).strip(),
    "devices": lambda v, s: str(v).strip(),
    "ray_address": parse_optional_selector,
    "data_roots": lambda v, s: parse_roots(v, s),
    "strict_plugins": parse_bool,
    "subset": parse_optional_selector,
    "on_bad_image": lambda v, s: parse_choice(v, s, BAD_IMAGE),
    "cache_dir": lambda v, s: str(v).strip(),
    "workers": lambda v, s: parse_int(v, s, 0),
    "fold_bn": parse_bool,
    "cpu_lanes": lambda v, s: parse_int(v, s, 1),
    "max_attempts": lambda v, s: parse_int(v, s, 1),
    "hang_seconds": lambda v, s: parse_positive(v, s),
    "environment": lambda v, s: parse_environment(v, s),
    "source_models": lambda v, s: parse_source_selector(v, s),
    "save_examples": lambda v, s: parse_int(v, s, 0),
    "craft": parse_bool,
}


def lkadv_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``LKADV_*`` variables of ``env`` (default: this process's environment)."""
    env = os.environ if env is None else env
    return {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)}
