"""The runner: plan, prepare the data, identify the models, execute, commit, summarize."""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.runner._data import plan_run, prepare_data
    from lkadv.runner._driver import DryRun, Progress, RunResult, dry_run, run
    from lkadv.runner._rescore import rescore

__all__ = [
    "DryRun",
    "Progress",
    "RunResult",
    "dry_run",
    "plan_run",
    "prepare_data",
    "rescore",
    "run",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "plan_run": "lkadv.runner._data",
        "prepare_data": "lkadv.runner._data",
        "DryRun": "lkadv.runner._driver",
        "Progress": "lkadv.runner._driver",
        "RunResult": "lkadv.runner._driver",
        "dry_run": "lkadv.runner._driver",
        "run": "lkadv.runner._driver",
        "rescore": "lkadv.runner._rescore",
    },
)
