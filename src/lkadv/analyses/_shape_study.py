"""The shape-bias analysis on cue-conflict images."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import torch

from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._plotting import model_colors, panels
from lkadv.analyses._shape_bias import group_probabilities, shape_bias

__all__ = ["ShapeBias"]


class ShapeBias:
    """Category decisions from averaged class probabilities; ``shape / (shape + texture)``."""

    def _data(self, ctx: ModelContext) -> Any:
        return ctx.services["dataset"]("cue-conflict", ctx.spec)

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """The images listed (their ids) and the category table of the model's label space."""
        data = self._data(ctx)
        digest = hashlib.sha256("\n".join(data.ids).encode()).hexdigest()
        return {"images": digest, "groups": data.groups(ctx.spec.label_space)}

    def units(self, ctx: ModelContext) -> list[str]:
        """One unit, for models whose label space the cue-conflict table maps."""
        if ctx.spec.label_space == "fashion-mnist":
            # Checked before the data, so the mini zoo never needs a cue-conflict root.
            raise AnalysisSkipped("Fashion-MNIST classes have no cue-conflict categories")
        if self._data(ctx).groups(ctx.spec.label_space) is None:
            raise AnalysisSkipped(f"cue-conflict's categories.json maps no classes of {ctx.spec.label_space!r}")
        return ["all"]

    @torch.no_grad()
    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Shape and texture decisions over every cue-conflict image."""
        data = self._data(ctx)
        groups = data.groups(ctx.spec.label_space)
        device = ctx.device
        decisions: list[int] = []
        for start in range(0, len(data), ctx.batch_size):
            xb = data.load(range(start, min(start + ctx.batch_size, len(data)))).to(device)
            probs = torch.softmax(ctx.model(xb).double(), 1)
            decisions += group_probabilities(probs, groups).argmax(1).tolist()
        return shape_bias(decisions, data.labels.tolist(), data.textures)

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row: the counts and the bias."""
        r = results["all"]
        return [{"model": model, **{k: round(v, 4) for k, v in r.items()}}]

    def plot(self, figure: Any, results: Results) -> None:
        """Shape bias per model (a bar each)."""
        colors = model_colors(list(results))
        (ax,) = panels(figure, 1, width=max(4.0, 1.0 * len(results)))
        names = list(results)
        ax.bar(names, [results[m]["all"]["shape_bias"] for m in names], color=[colors[m] for m in names])
        ax.set_ylim(0, 1)
        ax.set_ylabel("shape bias")
        ax.tick_params(axis="x", rotation=30)
