"""Loading one plugin the way lkadv does, and checking everything it registers."""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lkadv.plugins import ENTRY_POINT_GROUP, PluginHost, PluginInfo
from lkadv.specs import AnalysisSpec, AttackSpec, CorruptionSpec, DatasetSpec, ModelSpec
from lkadv.testing._errors import ContractViolation

__all__ = ["LoadedPlugin", "check_plugin", "load_plugin"]


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin loaded into a fresh host next to the built-ins.

    Attributes:
        name: The plugin's name (its entry-point name).
        host: The host: built-ins plus this plugin only.
        info: What ``lkadv plugins`` shows about it.
        models: The model specs it registered.
        attacks: The attack specs it registered.
        corruptions: The corruption specs it registered.
        datasets: The dataset specs it registered.
        analyses: The analysis specs it registered.
    """

    name: str
    host: PluginHost
    info: PluginInfo
    models: tuple[ModelSpec, ...]
    attacks: tuple[AttackSpec, ...]
    corruptions: tuple[CorruptionSpec, ...]
    datasets: tuple[DatasetSpec, ...]
    analyses: tuple[AnalysisSpec, ...] = ()

    def specs(self) -> list[tuple[str, Any]]:
        """``(kind, spec)`` of everything checkable it registered."""
        return [
            *(("model", s) for s in self.models),
            *(("attack", s) for s in self.attacks),
            *(("corruption", s) for s in self.corruptions),
            *(("dataset", s) for s in self.datasets),
            *(("analysis", s) for s in self.analyses),
        ]


def load_plugin(plugin: str | object, *, name: str | None = None) -> LoadedPlugin:
    """Load a plugin into a fresh host (built-ins, then it alone) and check that it loaded.

    Args:
        plugin: An installed plugin's entry-point name, or the plugin object itself
            (a module with hook implementations) to test it before installing.
        name: Name to register a plugin object under (default: its ``__name__``).

    Returns:
        The loaded plugin and what it registered.

    Raises:
        ContractViolation: ``plugin.loads`` if it is not installed, broken, or
            disabled; ``plugin.registers`` if it registers nothing.
    """
    if isinstance(plugin, str):
        known = sorted(ep.name for ep in md.entry_points(group=ENTRY_POINT_GROUP))
        if plugin not in known:
            raise ContractViolation(
                "plugin.loads",
                f"no entry point {plugin!r} in group {ENTRY_POINT_GROUP!r} (installed: {known}); install the "
                "package (pip install -e .) and check [project.entry-points.lkadv] in its pyproject.toml",
            )
        host = PluginHost(only=[plugin], strict=False)
        key = plugin
    else:
        key = name or str(getattr(plugin, "__name__", type(plugin).__name__))
        host = PluginHost(entry_points=False, extra=[(key, plugin)], strict=False)
    info = host.plugins[key]
    if info.status != "ok":
        raise ContractViolation("plugin.loads", f"plugin {key!r} is {info.status}: {' | '.join(info.errors)}")
    regs = host.registries

    def mine(registry: Any) -> tuple[Any, ...]:
        return tuple(s for s in registry if registry.provider(s.name) == key)

    loaded = LoadedPlugin(
        key,
        host,
        info,
        mine(regs.models),
        mine(regs.attacks),
        mine(regs.corruptions),
        mine(regs.datasets),
        mine(regs.analyses),
    )
    if not info.registered:
        raise ContractViolation("plugin.registers", f"plugin {key!r} registered nothing (hooks: {info.hooks})")
    return loaded


def check_plugin(
    plugin: str | object,
    *,
    attack_params: Mapping[str, Mapping[str, Any]] | None = None,
    skip: Iterable[str] = (),
) -> dict[str, dict[str, str]]:
    """Load a plugin and check every model, attack, corruption, dataset and analysis it registers.

    Args:
        plugin: Entry-point name or plugin object (see :func:`load_plugin`).
        attack_params: Per attack name, parameter overrides for the check (e.g.
            ``{"my-attack": {"steps": 2}}``).
        skip: Contracts not to run, as ``CONTRACT`` or ``SPEC_NAME:CONTRACT``.

    Returns:
        ``{spec name: {contract: "ok" | "skipped: why"}}``.

    Raises:
        ContractViolation: On the first broken contract.
    """
    from lkadv.testing._analyses import check_analysis
    from lkadv.testing._attacks import check_attack
    from lkadv.testing._contracts import select_contracts
    from lkadv.testing._corruptions import check_corruption
    from lkadv.testing._datasets import check_dataset
    from lkadv.testing._models import check_model

    loaded = load_plugin(plugin)
    skipped = set(skip)
    checkers: dict[str, Callable[..., dict[str, str]]] = {
        "model": lambda spec, cs: check_model(spec, contracts=cs, host=loaded.host),
        "attack": lambda spec, cs: check_attack(spec, contracts=cs, params=(attack_params or {}).get(spec.name)),
        "corruption": lambda spec, cs: check_corruption(spec, contracts=cs),
        "dataset": lambda spec, cs: check_dataset(spec, contracts=cs, host=loaded.host),
        # An analysis is checked by running it (on fm-replknet): all its contracts at once.
        "analysis": lambda spec, cs: {c: r for c, r in check_analysis(spec).items() if c in cs},
    }
    report: dict[str, dict[str, str]] = {}
    for kind, spec in loaded.specs():
        run = [c for c in select_contracts(kind, None) if c not in skipped and f"{spec.name}:{c}" not in skipped]
        report[spec.name] = checkers[kind](spec, run)
    return report
