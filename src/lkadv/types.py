"""The types every layer shares: per-sample outcomes, threat kinds, precisions, references.

A boundary between lkadv's packages is typed with these rather than with bare
strings and ``Any``: a threat kind is a :data:`ThreatKind`, a precision a
:data:`Precision`, and a plugin's lazily imported object a :data:`Ref` that
:func:`resolve` turns into the object.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, cast, get_args

if TYPE_CHECKING:  # annotations only: the settings and the listing import this module without numpy
    import numpy as np

__all__ = [
    "PRECISIONS",
    "THREAT_KINDS",
    "Outcomes",
    "Precision",
    "Ref",
    "ThreatKind",
    "import_ref",
    "resolve",
]

T = TypeVar("T")

ThreatKind: TypeAlias = Literal["clean", "attack", "corruption", "transfer"]
"""What a cell's model faces: its clean samples, an attack on itself, a corruption, or examples crafted on a source."""

THREAT_KINDS: tuple[ThreatKind, ...] = get_args(ThreatKind)

Precision: TypeAlias = Literal["fp32", "bf16", "fp16"]
"""The precision attack iterations run at (scoring is always fp32)."""

PRECISIONS: tuple[Precision, ...] = get_args(Precision)

Ref: TypeAlias = T | str
"""An object, or a ``"module:attribute"`` reference to it (imported on first use)."""


def import_ref(ref: str) -> Any:
    """Import ``package.module:attr.sub`` and return the attribute.

    Raises:
        ImportError: If the reference is malformed, or the module or the attribute does not exist.
    """
    module_name, sep, qualname = ref.partition(":")
    if not sep or not module_name or not qualname:
        raise ImportError(f"{ref!r} is not a 'module:attribute' reference")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ImportError(f"{module_name!r} has no attribute {qualname!r}") from exc
    return obj


def resolve(ref: Ref[T]) -> T:
    """The object a :data:`Ref` stands for: imported when it is a reference, else itself.

    Raises:
        ImportError: If a reference cannot be imported.
    """
    if isinstance(ref, str):
        return cast(T, import_ref(ref))
    return ref


@dataclass
class Outcomes:
    """Per-sample results of a unit or a cell (arrays aligned on subset indices).

    Attributes:
        correct: Scored correct (for attacks: still correct on the adversarial example).
        pred: Predicted class in the dataset's label space.
        margin: True-class logit minus best other logit (NaN where not computed).
        attacked: Whether the attack actually ran on the sample (False: skipped
            because wrong when clean, or already fooled at a smaller eps).
        extras: Further per-sample values a dataset's metrics need (arrays whose
            first axis is the sample: ImageNet-O's max softmax, ImageNet-P's top-5),
            stored beside the outcomes in the same transaction.
    """

    correct: np.ndarray
    pred: np.ndarray
    margin: np.ndarray
    attacked: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.correct)
