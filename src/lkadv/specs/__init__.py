"""The contracts plugins register against: one spec type per pluggable thing."""

from lkadv.specs._attack import NORMS, AttackFn, AttackSpec, Param
from lkadv.specs._corruption import CorruptionFn, CorruptionSpec
from lkadv.specs._dataset import BAD_IMAGE_POLICIES, DatasetSpec, ImageSet, LoadContext, Preprocessing
from lkadv.specs._model import ModelSpec
from lkadv.specs._plugins import AnalysisSpec, ExecutorSpec, ReporterSpec

__all__ = [
    "BAD_IMAGE_POLICIES",
    "NORMS",
    "AnalysisSpec",
    "AttackFn",
    "AttackSpec",
    "CorruptionFn",
    "CorruptionSpec",
    "DatasetSpec",
    "ExecutorSpec",
    "ImageSet",
    "LoadContext",
    "ModelSpec",
    "Param",
    "Preprocessing",
    "ReporterSpec",
]
