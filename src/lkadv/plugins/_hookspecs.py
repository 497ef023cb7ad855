"""The hooks a plugin can implement.

A plugin is any module or object with functions named like the hooks below,
marked with :data:`hookimpl`, and published under the ``lkadv`` entry-point
group. Built-in plugins use exactly the same hooks.

Registration hooks receive a registry to call ``register`` on; each plugin's
registrations are all-or-nothing: if any of its hooks raises, or registers an
invalid spec, everything it registered is withdrawn and it is listed as broken.
Lifecycle hooks are called once per implementation, each on its own: an
exception in one is reported and never stops the run (unless strict mode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # the hooks' argument types live in higher layers; only the type checker reads them
    from lkadv.executors import UnitOutcome
    from lkadv.metrics import ReportSection, Summary
    from lkadv.planner import Plan, Unit
    from lkadv.plugins._doctor import DoctorCheck
    from lkadv.registries import Registry
    from lkadv.specs import (
        AnalysisSpec,
        AttackSpec,
        CorruptionSpec,
        DatasetSpec,
        ExecutorSpec,
        ModelSpec,
        ReporterSpec,
    )
    from lkadv.store import Ledger

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "lkadv"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def lkadv_register_models(registry: Registry[ModelSpec]) -> None:
    """Register models, presets (``preset:NAME``) and name resolvers (``PREFIX:NAME``).

    Called once per plugin when a plugin host starts, before any command runs.

    Args:
        registry: Call ``registry.register(ModelSpec(...))``,
            ``registry.register_preset(name, selector)`` or
            ``registry.register_resolver(prefix, fn)``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_attacks(registry: Registry[AttackSpec]) -> None:
    """Register adversarial attacks.

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(AttackSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_corruptions(registry: Registry[CorruptionSpec]) -> None:
    """Register common corruptions.

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(CorruptionSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_datasets(registry: Registry[DatasetSpec]) -> None:
    """Register datasets.

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(DatasetSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_analyses(registry: Registry[AnalysisSpec]) -> None:
    """Register per-model analyses (occlusion, frequency, lesion...).

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(AnalysisSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_executors(registry: Registry[ExecutorSpec]) -> None:
    """Register executors, the ways units are run (``--executor NAME``).

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(ExecutorSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_register_reporters(registry: Registry[ReporterSpec]) -> None:
    """Register report formats (``lkadv report --format NAME``).

    Called once per plugin when a plugin host starts.

    Args:
        registry: Call ``registry.register(ReporterSpec(...))``.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_run_started(plan: Plan) -> None:
    """Observe a run that is about to compute its pending units.

    Called once per run, after the plan is stored in the ledger and before the
    first unit starts.

    Args:
        plan: The :class:`~lkadv.planner.Plan` (cells, units, options).

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_unit_finished(unit: Unit, outcome: UnitOutcome) -> None:
    """Observe a unit whose outcomes were just committed to the ledger.

    Called once per finished unit, in the driver process, after the commit.

    Args:
        unit: The :class:`~lkadv.planner.Unit` (cell and shard).
        outcome: The :class:`~lkadv.executors.UnitOutcome` (per-sample results, timing).

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_run_finished(summary: Summary) -> None:
    """Observe a finished run.

    Called once per run, after the last unit is committed and the run is marked
    finished, before the report is printed.

    Args:
        summary: The :class:`~lkadv.metrics.Summary` of the run.

    Returns:
        Nothing; the return value is ignored.

    Added in 0.1.0.
    """


@hookspec
def lkadv_report_sections(summary: Summary, ledger: Ledger) -> list[ReportSection] | None:
    """Add tables under a run's main table (mCE, benchmark scores, sanity flags...).

    Called whenever a summary is built (at the end of ``lkadv run`` and by
    ``lkadv report``), once per implementation, each on its own. Read what you
    need from ``summary.cells`` and the per-sample outcomes in ``ledger``.

    Args:
        summary: The :class:`~lkadv.metrics.Summary` being built (main table done).
        ledger: The open :class:`~lkadv.store.Ledger` of the run directory.

    Returns:
        A list of :class:`~lkadv.metrics.ReportSection`, or None to add nothing.

    Added in 0.1.0.
    """


@hookspec
def lkadv_doctor_checks() -> list[DoctorCheck] | None:
    """Add rows to ``lkadv doctor`` (weights present on disk, optional fast kernels...).

    Called once per implementation, each on its own, when ``lkadv doctor`` runs.

    Returns:
        A list of :class:`~lkadv.plugins.DoctorCheck`, or None to add nothing.

    Added in 0.1.0.
    """
