"""Shared by the processes and Ray executor tests: runs on the toy plugin, outcomes by model and threat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import RunResult, run
from lkadv.store import Ledger
from tests import toy_plugin
from tests.executors import fault_plugin

TOY = {"dataset": "toy", "attacks": "pgd", "shard_size": "100"}


def toy_run(run_dir: Path, models: str, executor: str = "local", **more: Any) -> RunResult:
    """A run on the toy dataset (400 samples, 4 shards, clean + PGD at 3 eps) with the fault models loaded."""
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("fault", fault_plugin)])
    settings = {**TOY, "models": models, "executor": executor, "run_dir": str(run_dir), **more}
    return run(load_options(settings, env={}, config_file=None), host=host, progress=False)


def per_sample(result: RunResult, rename: dict[str, str] | None = None) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per-sample (correct, pred, attacked) of every cell, by ``(model, threat label)``."""
    rename = rename or {}
    out = {}
    with Ledger(result.run_dir) as ledger:
        for cell in result.plan.cells:
            if cell.key in result.failures:
                continue
            o = ledger.outcomes(cell.key)
            model = rename.get(cell.model.name, cell.model.name)
            out[(model, cell.threat.label)] = (o.correct.tolist(), o.pred.tolist(), o.attacked.tolist())
    return out


def unit_infos(result: RunResult) -> dict[tuple[str, str, int], dict[str, Any]]:
    """Each committed unit's info, by ``(model, threat label, shard)``."""
    out = {}
    with Ledger(result.run_dir) as ledger:
        for cell in result.plan.cells:
            for i, info in enumerate(ledger.unit_infos(cell.key)):
                out[(cell.model.name, cell.threat.label, i)] = info
    return out


def same_arrays(a: dict[Any, tuple[Any, ...]], b: dict[Any, tuple[Any, ...]]) -> list[Any]:
    """Keys whose outcomes differ (or that only one side has)."""
    return sorted(k for k in a.keys() | b.keys() if k not in a or k not in b or not np.array_equal(a[k], b[k]))


def local_reference(folder: Path) -> dict[tuple[str, str], tuple[Any, ...]]:
    """The local executor's outcomes on the toy job, fault-kill's fault set past the end of the run."""
    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LKADV_FAULT_DIR", str(folder))
        patch.setenv("LKADV_FAULT_AT", str(10**9))
        result = toy_run(folder / "run", "fault-kill,toy-1")
    assert not result.failures
    return per_sample(result)
