"""The analysis contract: what an AnalysisSpec's ``run`` returns, and what it is handed per model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lkadv.errors import LkadvError

if TYPE_CHECKING:
    import torch
    from matplotlib.figure import Figure
    from torch import nn

    from lkadv.analyses._anatomy import Anatomy
    from lkadv.specs import ModelSpec

__all__ = ["Analysis", "AnalysisSkipped", "ModelContext", "Results"]

Results = Mapping[str, Mapping[str, Mapping[str, Any]]]
"""Stored unit results by model name, then unit name."""


class AnalysisSkipped(LkadvError):  # noqa: N818 - a skip with its reason, not an error
    """Raised by ``Analysis.units`` when a model cannot be analysed; the message is the reason."""


@dataclass
class ModelContext:
    """What an analysis gets for one model.

    Attributes:
        spec: The model's spec.
        model: The Classifier (merged, eval, fp32): images in [0, 1] in, logits out.
        network: The network inside it (for hooks and lesions).
        anatomy: Its anatomy (declared or discovered), after merging.
        branch_kernels: Large-branch kernels read before merging, by kernel-site index.
        images: Loads the analysis images (float32 NCHW in [0, 1]) and labels, once.
        seed: Base seed; units derive theirs from it and the unit name (not the model, so
            every model sees the same masks, noise and draws).
        device: Where the model runs.
        batch_size: Images per forward pass.
        services: Shared helpers (the saliency source, other datasets).
        unmerged: The anatomy before merging (its kernel sites index ``branch_kernels``).
    """

    spec: ModelSpec
    model: nn.Module
    network: nn.Module
    anatomy: Anatomy
    branch_kernels: dict[int, torch.Tensor]
    images: Callable[[], tuple[torch.Tensor, torch.Tensor]]
    seed: int
    device: torch.device
    batch_size: int
    services: dict[str, Any] = field(default_factory=dict)
    unmerged: Anatomy | None = None


class Analysis(Protocol):
    """A study split into units, each stored on its own (a kill loses no finished unit).

    ``units`` names the units for a model (raising :class:`AnalysisSkipped` with
    the reason when the model cannot be analysed); ``compute`` returns one
    unit's JSON-ready result; ``rows`` turns a model's stored results into table
    rows; ``plot`` draws every model's results into one figure.
    """

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """Anything besides the parameters that changes this model's results (a saliency model's weights...)."""
        ...

    def units(self, ctx: ModelContext) -> list[str]:
        """Unit names for this model."""
        ...

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """One unit's result."""
        ...

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Table rows of one model."""
        ...

    def plot(self, figure: Figure, results: Results) -> None:
        """Draw all models' results, side by side."""
        ...
