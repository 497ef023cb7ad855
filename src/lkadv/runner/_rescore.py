"""Scoring a run's saved transfer examples on further models, without crafting anything."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from lkadv.config import RunOptions
from lkadv.errors import ConfigError
from lkadv.plugins import PluginHost
from lkadv.runner._driver import Progress, RunResult, run
from lkadv.store import LEDGER_FILE, Ledger

__all__ = ["rescore"]


def _stored_options(run_dir: Path) -> dict[str, Any]:
    with Ledger(run_dir) as ledger:
        options = dict(ledger.run()["plan"]["options"])
    known = {f.name for f in dataclasses.fields(RunOptions)} - {"environment"}  # today's variables apply
    return {k: v for k, v in options.items() if k in known and v is not None}


def rescore(
    run_dir: Path | str,
    models: str,
    *,
    host: PluginHost | None = None,
    progress: Progress | bool | None = False,
) -> RunResult:
    """Score the saved examples of a run's transfer cells on more models.

    The run's latest options are repeated with ``models`` added to its targets
    and crafting turned off: every new target gets its clean cell and one
    transfer cell per (attack, source), scored from the 8-bit examples in
    ``run_dir``; finished cells are reused as always.

    Args:
        run_dir: A run directory with transfer cells.
        models: Model selector of the models to add.
        host: Loaded plugins.
        progress: Progress display (as :func:`~lkadv.runner.run`).

    Returns:
        The run's result, with the new cells.

    Raises:
        ConfigError: If the run has no transfer cells, or ``models`` is empty.
        LkadvError: If an example set the new cells need is not saved.
    """
    run_dir = Path(run_dir)
    if not (run_dir / LEDGER_FILE).is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no {LEDGER_FILE}); give the folder of a run")
    if not models.strip():
        raise ConfigError("rescore: --models names no model; give the models to score the saved examples on")
    base = _stored_options(run_dir)
    if not base.get("source_models"):
        raise ConfigError(
            f"the latest run in {run_dir} has no transfer cells (it ran without --source-models): "
            "there are no saved examples to rescore"
        )
    base.update(models=f"{base['models']},{models}", craft=False, run_dir=run_dir)
    return run(RunOptions(**base), host=host, progress=progress)
