"""Running the oracle on a fake tree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.runner import RunResult, run
from lkadv.store import Ledger


def options(dataset: str, roots: dict[str, Path], tmp: Path, **kw: Any) -> Any:
    base: dict[str, Any] = {
        "models": "oracle",
        "dataset": dataset,
        "run_dir": str(tmp / "run"),
        "cache_dir": str(tmp / "cache"),
        "workers": 0,
        "limit": 0,
        "data_roots": {k: str(v) for k, v in roots.items()},
    }
    base.update(kw)
    return load_options(base, env={}, config_file=None)


def run_oracle(dataset: str, roots: dict[str, Path], tmp: Path, host: PluginHost, **kw: Any) -> RunResult:
    result = run(options(dataset, roots, tmp, **kw), host=host)
    assert not result.failures, result.failures
    return result


def figures(result: RunResult, host: PluginHost) -> dict[str, dict[str, float]]:
    """The dataset's headline figures per model, from the ledger."""
    from lkadv.types import resolve

    spec = host.registries.datasets.get(result.plan.dataset.name)
    fn = resolve(spec.benchmark)
    out = {}
    with Ledger(result.run_dir) as ledger:
        ids = ledger.subset_ids(result.plan.subset.digest)
        for cell in result.plan.cells:
            out[cell.model.name] = fn(ids, ledger.outcomes(cell.key))
    return out
