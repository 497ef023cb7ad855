"""What the options select: models, threats (attacks by family and eps, corruptions by severity), providers."""

from __future__ import annotations

import itertools
from typing import Any

from lkadv.attacks import resolve_members
from lkadv.config import RunOptions
from lkadv.corruptions import protocol_config
from lkadv.errors import ConfigError
from lkadv.planner._presets import expand_attack_presets
from lkadv.planner._threats import Threat
from lkadv.plugins import PluginHost
from lkadv.registries import Registry
from lkadv.specs import AttackSpec, CorruptionSpec, DatasetSpec, ModelSpec

__all__ = ["attack_threats", "corruption_threats", "mce_baseline", "plan_providers", "select_models"]


def _provider(host: PluginHost, registry: Registry[Any], name: str) -> str:
    plugin = registry.provider(name)
    info = host.plugins.get(plugin)
    return f"{plugin}@{info.version if info else 'unknown'}"


def select_models(host: PluginHost, options: RunOptions, dataset: DatasetSpec) -> list[ModelSpec]:
    registry = host.registries.models
    models = registry.select(options.models, where=dataset.accepts_model)
    wrong = [m for m in models if not dataset.accepts_model(m)]
    if wrong:
        accepted = ", ".join(dataset.accepts or (dataset.label_space,))
        listing = "; ".join(f"{m.name} outputs {m.label_space}" for m in wrong)
        raise ConfigError(f"dataset {dataset.name!r} scores label space(s) {accepted}, but {listing}")
    return models


def attack_threats(host: PluginHost, options: RunOptions, dataset: DatasetSpec) -> list[Threat]:
    options, preset_eps, _ = expand_attack_presets(options)
    if options.attacks is None:
        return []
    specs: list[AttackSpec] = host.registries.attacks.select(options.attacks)
    unknown = sorted(set(options.attack_params) - {s.name for s in specs})
    if unknown:
        raise ConfigError(f"parameters given for attack(s) {unknown} that the run does not select")
    threats = []
    for spec in specs:
        raw = {**(options.attack_defaults.get(spec.name) or {}), **(options.attack_params.get(spec.name) or {})}
        values = {k: _sweep(v) for k, v in raw.items()}
        swept = [k for k, v in values.items() if len(v) > 1]
        for combo in itertools.product(*values.values()):
            overrides = dict(zip(values, combo, strict=True))
            config = spec.resolve(overrides)
            norm = config["norm"]
            grid = options.eps if options.eps is not None else preset_eps.get(spec.name, dataset.default_eps.get(norm))
            if not grid:
                raise ConfigError(f"dataset {dataset.name!r} has no default {norm} eps grid; give --eps")
            if norm == "linf" and max(grid) > 1:
                big = max(grid)
                hint = f"; did you mean {big:g}/255?" if big == int(big) and big <= 255 else ""
                raise ConfigError(
                    f"eps {big:g} for the L-inf attack {spec.name!r}: radii are in [0, 1] pixel units and "
                    f"anything above 1 covers every image{hint}"
                )
            if spec.composite:
                config["ensemble"] = _ensemble_id(host, spec, config)
            config.update(
                backend=spec.backend,
                backend_version=spec.backend_version,
                precision=options.precision,
                seed=options.seed,
            )
            items = tuple(sorted(config.items()))
            variant = ",".join(f"{k}={config[k] if k in config else overrides[k]}" for k in swept)
            threats += [Threat("attack", spec.name, items, eps=float(e), variant=variant) for e in sorted(grid)]
    labels = [t.label for t in threats]
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    if dupes:
        raise ConfigError(f"attack parameters give the same column twice: {dupes}; sweep distinct values")
    return threats


def _sweep(value: Any) -> list[Any]:
    """A parameter sweep: a list (TOML) or ``a|b|c`` (flags, environment); else one value."""
    if isinstance(value, list | tuple):
        return list(value) or [None]
    if isinstance(value, str) and "|" in value:
        return [v.strip() for v in value.split("|")]
    return [value]


def _ensemble_id(host: PluginHost, spec: AttackSpec, config: dict[str, Any]) -> str:
    """The full identity of a composite attack's members: ``pgd[backend=lkadv,...]+fgsm[...]``."""
    ids = []
    for member, member_config in resolve_members(config["members"], config["norm"], host.registries.attacks.get):
        member_config.update(backend=member.backend, backend_version=member.backend_version)
        ids.append(Threat("attack", member.name, tuple(sorted(member_config.items()))).family)
    return "+".join(ids)


def corruption_threats(host: PluginHost, options: RunOptions) -> list[Threat]:
    if options.corruptions is None:
        return []
    specs: list[CorruptionSpec] = host.registries.corruptions.select(options.corruptions)
    threats = []
    for spec in specs:
        config: dict[str, Any] = {"version": spec.version, **protocol_config(options.corruption_protocol)}
        if spec.random:
            config["seed"] = options.seed
        missing = [s for s in options.severities if s not in spec.severities]
        if missing:
            raise ConfigError(
                f"corruption {spec.name!r} has severities {list(spec.severities)}; "
                f"{', '.join(map(str, missing))} is not one of them (--severities)"
            )
        sevs = list(options.severities)
        threats += [Threat("corruption", spec.name, tuple(sorted(config.items())), severity=s) for s in sevs]
    return threats


def mce_baseline(options: RunOptions, dataset: DatasetSpec, models: list[ModelSpec]) -> str | None:
    """The model that normalizes mCE: named by the run, else the dataset's default if it runs."""
    names = [m.name for m in models]
    if options.mce_baseline is not None:
        if options.mce_baseline not in names:
            raise ConfigError(
                f"--mce-baseline {options.mce_baseline!r} is not a model of this run ({', '.join(names)}); "
                "add it to --models or name one of them"
            )
        return options.mce_baseline
    if dataset.mce_baseline is not None and dataset.mce_baseline in names:
        return dataset.mce_baseline
    return None


def plan_providers(
    host: PluginHost, dataset: DatasetSpec, models: list[ModelSpec], threats: list[Threat]
) -> dict[str, str]:
    registries = host.registries
    providers = {f"model:{m.name}": _provider(host, registries.models, m.name) for m in models}
    providers[f"dataset:{dataset.name}"] = _provider(host, registries.datasets, dataset.name)
    for t in threats:
        if t.kind in ("attack", "transfer"):
            providers[f"{t.kind}:{t.name}"] = _provider(host, registries.attacks, t.name)
        elif t.kind == "corruption":
            providers[f"corruption:{t.name}"] = _provider(host, registries.corruptions, t.name)
    return providers
