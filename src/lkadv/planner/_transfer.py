"""Transfer threats: each selected attack crafted on every source model, scored on every model of the run.

With ``--source-models``, an attack threat ``taig@8/255`` becomes one transfer
threat per source (``taig@8/255 from fm-resnet``): the source is part of the
threat's configuration and so of every cell key, and the source's own loaded
identity (weights digest) is added to the key material of each cell that
scores its examples. Sources join the run's models (each is also a target: its
own white-box figure, through the same 8-bit images).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lkadv.config import RunOptions
from lkadv.errors import ConfigError, SelectionError
from lkadv.planner._threats import Threat
from lkadv.plugins import PluginHost
from lkadv.specs import DatasetSpec, ModelSpec

__all__ = ["craft_key_material", "source_of", "transfer_threats"]


def source_of(threat: Threat) -> str | None:
    """The source model of a transfer threat (None for any other threat)."""
    return str(dict(threat.config)["source"]) if threat.kind == "transfer" else None


def _sources(host: PluginHost, options: RunOptions, dataset: DatasetSpec) -> list[ModelSpec]:
    selector = options.source_models or ""
    try:
        # as for --models: all, globs and tags keep to the dataset's label space; a name is checked below
        sources: list[ModelSpec] = host.registries.models.select(selector, where=dataset.accepts_model)
    except SelectionError as exc:
        raise SelectionError(f"--source-models: {exc}") from exc
    wrong = [m for m in sources if not dataset.accepts_model(m)]
    if wrong:
        listing = "; ".join(f"{m.name} outputs {m.label_space}" for m in wrong)
        accepted = ", ".join(dataset.accepts or (dataset.label_space,))
        raise ConfigError(
            f"--source-models: dataset {dataset.name!r} scores label space(s) {accepted}, but {listing}; "
            "a source must predict the run's labels"
        )
    return sources


def _warn_unreachable(threat: Threat) -> None:
    config = dict(threat.config)
    if threat.name != "taig" or threat.eps is None:
        return
    from lkadv.attacks import taig_reach  # torch-free

    reachable = taig_reach(config)
    if reachable < threat.eps * (1 - 1e-6):
        warnings.warn(
            f"{threat.label}: {config['iterations']} steps of {config['step_size'] * 255:.4g}/255 reach at most "
            f"{reachable * 255:.4g}/255 < eps; raise taig.iterations or taig.step_size to use the whole ball",
            UserWarning,
            stacklevel=3,
        )


def transfer_threats(
    host: PluginHost,
    options: RunOptions,
    dataset: DatasetSpec,
    models: Sequence[ModelSpec],
    threats: Sequence[Threat],
    same_input: Any,
) -> tuple[list[ModelSpec], list[Threat]]:
    """Models and threats of a run with ``--source-models``: attacks become transfers from each source.

    Args:
        host: Loaded plugins.
        options: Run options (``source_models`` set or not).
        dataset: The dataset.
        models: The selected models (the targets).
        threats: The threats so far (clean, corruptions, attacks).
        same_input: ``model -> preprocessing key``; sources and targets must share it,
            since a saved 8-bit image is scored as it is.

    Returns:
        ``(models, threats)``: targets then sources not already selected; each
        attack threat replaced by one transfer threat per source.

    Raises:
        ConfigError: Without attacks, on a source outside the label space, or a
            source whose input differs from a target's.
        SelectionError: If ``--source-models`` names no model.
    """
    for threat in threats:
        if threat.kind == "attack":
            _warn_unreachable(threat)
    if options.source_models is None:
        return list(models), list(threats)
    if not any(t.kind == "attack" for t in threats):
        raise ConfigError("--source-models needs --attacks: the attack to craft on each source, e.g. -a taig")
    sources = _sources(host, options, dataset)
    names = {m.name for m in models}
    everyone = [*models, *(s for s in sources if s.name not in names)]
    keys = {same_input(m) for m in everyone}
    if len(keys) > 1:
        listing = ", ".join(f"{m.name}: {same_input(m)}" for m in everyone)
        raise ConfigError(
            f"transfer examples are saved as images and scored as they are, so every model needs the same input; "
            f"these differ ({listing})"
        )
    out: list[Threat] = []
    for threat in threats:
        if threat.kind != "attack":
            out.append(threat)
            continue
        for source in sources:
            config = tuple(sorted((*threat.config, ("source", source.name))))
            out.append(replace(threat, kind="transfer", config=config))
    return everyone, out


def craft_key_material(material: dict[str, Any], shard: int, start: int, stop: int) -> dict[str, Any]:
    """What identifies a transfer unit's crafted examples: its cell's material without the target model."""
    return {**{k: v for k, v in material.items() if k != "model"}, "shard": [shard, start, stop]}
