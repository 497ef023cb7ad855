"""The contracts plugins register against: one spec type per pluggable thing."""

from lkadv.specs._attack import NORMS, AttackFn, AttackSpec, Param
from lkadv.specs._corruption import CorruptionFn, CorruptionSpec
from lkadv.specs._dataset import DatasetSpec, ImageSet, Preprocessing
from lkadv.specs._model import ModelSpec
from lkadv.specs._plugins import AnalysisSpec, ExecutorSpec, ReporterSpec

__all__ = [
    "NORMS",
    "AnalysisSpec",
    "AttackFn",
    "AttackSpec",
    "CorruptionFn",
    "CorruptionSpec",
    "DatasetSpec",
    "ExecutorSpec",
    "ImageSet",
    "ModelSpec",
    "Param",
    "Preprocessing",
    "ReporterSpec",
]
