"""The planner: options and registries in, cells (model x threat) and units (cell x shard) out; no file access."""

from lkadv.planner._plan import Cell, Plan, PlanData, Unit, make_plan, preprocessing_for
from lkadv.planner._seeds import derive_seed
from lkadv.planner._subsets import Subset, balanced_subset, draw_subset, fixed_subset, named_subset
from lkadv.planner._threats import Threat, format_eps

__all__ = [
    "Cell",
    "Plan",
    "PlanData",
    "Subset",
    "Threat",
    "Unit",
    "balanced_subset",
    "derive_seed",
    "draw_subset",
    "fixed_subset",
    "format_eps",
    "make_plan",
    "named_subset",
    "preprocessing_for",
]
