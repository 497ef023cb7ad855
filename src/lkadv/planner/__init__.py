"""The planner: options -> cells (model x threat) -> units (cell x shard)."""

from lkadv.planner._members import parse_members, resolve_members
from lkadv.planner._plan import Cell, Plan, Unit, make_plan
from lkadv.planner._presets import ATTACK_PRESETS, AttackPreset, expand_attack_presets
from lkadv.planner._seeds import derive_seed
from lkadv.planner._subsets import Subset, balanced_subset, fixed_subset, named_subset
from lkadv.planner._threats import Threat, format_eps
from lkadv.planner._transfer import craft_key_material, source_of, transfer_threats

__all__ = [
    "ATTACK_PRESETS",
    "AttackPreset",
    "Cell",
    "Plan",
    "Subset",
    "Threat",
    "Unit",
    "balanced_subset",
    "craft_key_material",
    "derive_seed",
    "expand_attack_presets",
    "fixed_subset",
    "format_eps",
    "make_plan",
    "named_subset",
    "parse_members",
    "resolve_members",
    "source_of",
    "transfer_threats",
]
