"""lkadv: a plugin-based robustness suite for image classifiers.

The package root stays light (no torch import) so that listing plugins and
specs is fast; heavy names are imported on first use.
"""

from typing import TYPE_CHECKING

from lkadv._version import __version__
from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.config import RunOptions, load_options
    from lkadv.metrics import Summary, summarize
    from lkadv.models import Classifier, build_classifier
    from lkadv.planner import Plan, make_plan
    from lkadv.plugins import PluginHost, hookimpl, hookspec
    from lkadv.runner import RunResult, run
    from lkadv.specs import (
        AnalysisSpec,
        AttackSpec,
        CorruptionSpec,
        DatasetSpec,
        ExecutorSpec,
        ModelSpec,
        Param,
        Preprocessing,
        ReporterSpec,
    )
    from lkadv.store import Ledger

__all__ = [
    "AnalysisSpec",
    "AttackSpec",
    "Classifier",
    "CorruptionSpec",
    "DatasetSpec",
    "ExecutorSpec",
    "Ledger",
    "ModelSpec",
    "Param",
    "Plan",
    "PluginHost",
    "Preprocessing",
    "ReporterSpec",
    "RunOptions",
    "RunResult",
    "Summary",
    "__version__",
    "build_classifier",
    "hookimpl",
    "hookspec",
    "load_options",
    "make_plan",
    "run",
    "summarize",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "RunOptions": "lkadv.config",
        "load_options": "lkadv.config",
        "RunResult": "lkadv.runner",
        "run": "lkadv.runner",
        "Summary": "lkadv.metrics",
        "summarize": "lkadv.metrics",
        "Classifier": "lkadv.models",
        "build_classifier": "lkadv.models",
        "Plan": "lkadv.planner",
        "make_plan": "lkadv.planner",
        "PluginHost": "lkadv.plugins",
        "hookimpl": "lkadv.plugins",
        "hookspec": "lkadv.plugins",
        "AnalysisSpec": "lkadv.specs",
        "AttackSpec": "lkadv.specs",
        "CorruptionSpec": "lkadv.specs",
        "DatasetSpec": "lkadv.specs",
        "ExecutorSpec": "lkadv.specs",
        "ModelSpec": "lkadv.specs",
        "Param": "lkadv.specs",
        "Preprocessing": "lkadv.specs",
        "ReporterSpec": "lkadv.specs",
        "Ledger": "lkadv.store",
    },
)
