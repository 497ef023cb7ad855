"""The attack engine: what a gradient attack differentiates, how, and the check of what it returns.

It owns the differentiable view of a model (BatchNorm folding, parameter
freezing), the CPU lanes that split a gradient pass, the record of which fast
paths ran, the perturbation norms and the core's check of every adversarial
example. Its options are a frozen :class:`EngineOptions` installed with
:func:`use_engine`; nothing here reads the environment.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.engine._check import ABS_SLACK, REL_SLACK, check_adversarial
    from lkadv.engine._folding import fold_batchnorm
    from lkadv.engine._freeze import input_gradients_only
    from lkadv.engine._lanes import MIN_LANE_ROWS, input_gradient, lane_count
    from lkadv.engine._norms import ascent_direction, perturbation_norm, project, random_init, uniform
    from lkadv.engine._options import EngineOptions, engine_options, use_engine
    from lkadv.engine._trace import EngineTrace, trace_engine
    from lkadv.engine._view import attack_view

__all__ = [
    "ABS_SLACK",
    "MIN_LANE_ROWS",
    "REL_SLACK",
    "EngineOptions",
    "EngineTrace",
    "ascent_direction",
    "attack_view",
    "check_adversarial",
    "engine_options",
    "fold_batchnorm",
    "input_gradient",
    "input_gradients_only",
    "lane_count",
    "perturbation_norm",
    "project",
    "random_init",
    "trace_engine",
    "uniform",
    "use_engine",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "ABS_SLACK": "lkadv.engine._check",
        "REL_SLACK": "lkadv.engine._check",
        "check_adversarial": "lkadv.engine._check",
        "fold_batchnorm": "lkadv.engine._folding",
        "input_gradients_only": "lkadv.engine._freeze",
        "MIN_LANE_ROWS": "lkadv.engine._lanes",
        "input_gradient": "lkadv.engine._lanes",
        "lane_count": "lkadv.engine._lanes",
        "perturbation_norm": "lkadv.engine._norms",
        "project": "lkadv.engine._norms",
        "ascent_direction": "lkadv.engine._norms",
        "random_init": "lkadv.engine._norms",
        "uniform": "lkadv.engine._norms",
        "EngineOptions": "lkadv.engine._options",
        "engine_options": "lkadv.engine._options",
        "use_engine": "lkadv.engine._options",
        "EngineTrace": "lkadv.engine._trace",
        "trace_engine": "lkadv.engine._trace",
        "attack_view": "lkadv.engine._view",
    },
)
