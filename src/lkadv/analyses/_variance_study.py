"""The feature-map variance analysis: variance over H x W of each feature module's output along depth."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._plotting import model_colors, panels
from lkadv.analyses._variance import as_maps, batch_mean_variance, per_sample_variance
from lkadv.errors import ConfigError

__all__ = ["FeatureVariance"]


class FeatureVariance:
    """Both definitions: per sample (How Do ViTs Work) and of the batch-mean map (the study's script).

    Args:
        batch: Images per batch of the batch-mean definition (the study: 128); fixed here so
            that ``--batch-size`` never changes it.

    Raises:
        ConfigError: On a non-positive batch.
    """

    def __init__(self, batch: int = 128) -> None:
        if batch < 1:
            raise ConfigError("feature-variance.batch must be positive")
        self.batch = batch

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """Nothing beyond the parameters and the anatomy."""
        return {}

    def units(self, ctx: ModelContext) -> list[str]:
        """One unit: every feature module at once (one pass over the images)."""
        if len(ctx.anatomy.features or ()) < 2:
            raise AnalysisSkipped("the model declares fewer than two feature-map modules")
        return ["all"]

    @torch.no_grad()
    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Variance per feature module, both definitions, with normalized depth."""
        names = list(ctx.anatomy.features or ())
        x, _ = ctx.images()
        captured: dict[str, torch.Tensor] = {}
        handles = [
            ctx.network.get_submodule(n).register_forward_hook(
                lambda _m, _a, out, n=n: captured.__setitem__(n, as_maps(out).float())
            )
            for n in names
        ]
        per_sample = torch.zeros(len(names), dtype=torch.float64)
        batch_mean = torch.zeros(len(names), dtype=torch.float64)
        batches = 0
        device = ctx.device
        try:
            for start in range(0, len(x), self.batch):
                ctx.model(x[start : start + self.batch].to(device))
                for i, n in enumerate(names):
                    per_sample[i] += per_sample_variance(captured[n]).sum().cpu()
                    batch_mean[i] += batch_mean_variance(captured[n]).cpu()
                batches += 1
        finally:
            for h in handles:
                h.remove()
        depth = [i / (len(names) - 1) for i in range(len(names))]
        return {
            "modules": names,
            "depth": depth,
            "per_sample": (per_sample / len(x)).tolist(),
            "batch_mean": (batch_mean / batches).tolist(),
        }

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per feature module."""
        r = results["all"]
        return [
            {"model": model, "module": m, "depth": round(d, 3), "per_sample": round(a, 5), "batch_mean": round(b, 5)}
            for m, d, a, b in zip(r["modules"], r["depth"], r["per_sample"], r["batch_mean"], strict=True)
        ]

    def plot(self, figure: Any, results: Results) -> None:
        """Variance against normalized depth, one panel per definition."""
        colors = model_colors(list(results))
        for ax, key in zip(panels(figure, 2), ("per_sample", "batch_mean"), strict=True):
            for model, units in results.items():
                r = units["all"]
                ax.plot(r["depth"], r[key], marker="s", ms=3, label=model, color=colors[model])
            ax.set_title("per-sample variance" if key == "per_sample" else "variance of the batch-mean map")
            ax.set_xlabel("normalized depth")
            ax.set_ylabel("feature-map variance")
            ax.set_yscale("log")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
