"""The planner: options and registries in, cells (model x threat) and units (cell x shard) out; no file access."""

from lkadv.planner._cells import Cell, Unit, preprocessing_for
from lkadv.planner._plan import Plan, PlanData, make_plan
from lkadv.planner._presets import ATTACK_PRESETS, AttackPreset, expand_attack_presets
from lkadv.planner._seeds import derive_seed
from lkadv.planner._subsets import Subset, balanced_subset, draw_subset, fixed_subset, named_subset
from lkadv.planner._threats import Threat, format_eps
from lkadv.planner._transfer import craft_key_material, source_of, transfer_threats

__all__ = [
    "ATTACK_PRESETS",
    "AttackPreset",
    "Cell",
    "Plan",
    "PlanData",
    "Subset",
    "Threat",
    "Unit",
    "balanced_subset",
    "craft_key_material",
    "derive_seed",
    "draw_subset",
    "expand_attack_presets",
    "fixed_subset",
    "format_eps",
    "make_plan",
    "named_subset",
    "preprocessing_for",
    "source_of",
    "transfer_threats",
]
