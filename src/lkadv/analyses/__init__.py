"""The study's analyses as plugins, split into stored units and drawn as figures.

Occlusion, kernel attention, frequency, feature-map variance, lesion, ERF and shape bias.

Heavy names load on first use, so importing the package never imports torch.
"""

from typing import TYPE_CHECKING

from lkadv.lazy import lazy_attributes

if TYPE_CHECKING:
    from lkadv.analyses._anatomy import Anatomy, BlockGroup, KernelSite, anatomy_of
    from lkadv.analyses._base import Analysis, AnalysisSkipped, ModelContext, Results
    from lkadv.analyses._erf import area_ratio, erf_contribution, erf_scale
    from lkadv.analyses._frequency import band_mask, band_noise
    from lkadv.analyses._kernels import combine_branches, distance_map, kernel_scores
    from lkadv.analyses._lesion import lesioned, shape_preserving
    from lkadv.analyses._occlusion import apply_patch_mask, auto_grid, drop_count, foreground, random_patch_masks
    from lkadv.analyses._runner import AnalyzeResult, PlannedUnit, analyze, select_analyses
    from lkadv.analyses._saliency import cls_attention
    from lkadv.analyses._shape_bias import group_probabilities, shape_bias
    from lkadv.analyses._store import AnalysisStore
    from lkadv.analyses._variance import as_maps, batch_mean_variance, per_sample_variance

__all__ = [
    "Analysis",
    "AnalysisSkipped",
    "AnalysisStore",
    "AnalyzeResult",
    "Anatomy",
    "BlockGroup",
    "KernelSite",
    "ModelContext",
    "PlannedUnit",
    "Results",
    "analyze",
    "anatomy_of",
    "apply_patch_mask",
    "area_ratio",
    "as_maps",
    "auto_grid",
    "band_mask",
    "band_noise",
    "batch_mean_variance",
    "cls_attention",
    "combine_branches",
    "distance_map",
    "drop_count",
    "erf_contribution",
    "erf_scale",
    "foreground",
    "group_probabilities",
    "kernel_scores",
    "lesioned",
    "per_sample_variance",
    "random_patch_masks",
    "select_analyses",
    "shape_bias",
    "shape_preserving",
]

_WHERE = {
    "_anatomy": ("Anatomy", "BlockGroup", "KernelSite", "anatomy_of"),
    "_base": ("Analysis", "AnalysisSkipped", "ModelContext", "Results"),
    "_erf": ("area_ratio", "erf_contribution", "erf_scale"),
    "_frequency": ("band_mask", "band_noise"),
    "_kernels": ("combine_branches", "distance_map", "kernel_scores"),
    "_lesion": ("lesioned", "shape_preserving"),
    "_occlusion": ("apply_patch_mask", "auto_grid", "drop_count", "foreground", "random_patch_masks"),
    "_runner": ("AnalyzeResult", "PlannedUnit", "analyze", "select_analyses"),
    "_saliency": ("cls_attention",),
    "_shape_bias": ("group_probabilities", "shape_bias"),
    "_store": ("AnalysisStore",),
    "_variance": ("as_maps", "batch_mean_variance", "per_sample_variance"),
}

__getattr__, __dir__ = lazy_attributes(
    __name__, {name: f"lkadv.analyses.{module}" for module, names in _WHERE.items() for name in names}
)
