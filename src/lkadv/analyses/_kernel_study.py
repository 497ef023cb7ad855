"""The kernel attention pattern analysis: per-channel distance-weighted kernel mass, sorted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import torch

from lkadv.analyses._anatomy import KernelSite
from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._kernels import kernel_scores
from lkadv.analyses._plotting import model_colors, panels
from lkadv.errors import ConfigError

__all__ = ["KernelAttention"]


class KernelAttention:
    """Scores ``sum |w| * d`` of every large depthwise kernel, sorted per block.

    Args:
        variant: ``large`` (the large branch before merging, the study's choice)
            or ``merged`` (the kernel the merged model applies).
        normalize: Divide each channel's score by its ``sum |w|`` (the study: unnormalized).

    Raises:
        ConfigError: On an unknown variant.
    """

    def __init__(self, variant: str = "large", normalize: bool = False) -> None:
        if variant not in ("large", "merged"):
            raise ConfigError(f"kernel-attention.variant must be 'large' or 'merged', got {variant!r}")
        self.variant, self.normalize = variant, normalize

    def _sites(self, ctx: ModelContext) -> tuple[KernelSite, ...]:
        # Before merging and after, a discovered network may show different convolutions.
        anatomy = (ctx.unmerged or ctx.anatomy) if self.variant == "large" else ctx.anatomy
        return anatomy.large_kernels or ()

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """The kernel sites read (before or after merging)."""
        return {"sites": [asdict(s) for s in self._sites(ctx)]}

    def units(self, ctx: ModelContext) -> list[str]:
        """One unit per kernel site."""
        sites = self._sites(ctx)
        if not sites:
            raise AnalysisSkipped("the model declares no large depthwise kernels")
        if self.variant == "large" and len(ctx.branch_kernels) < len(sites):
            raise AnalysisSkipped("the large branches could not be read before merging (use variant=merged)")
        return [f"site:{i}" for i in range(len(sites))]

    def _weight(self, ctx: ModelContext, index: int, site: KernelSite) -> torch.Tensor:
        if self.variant == "large":
            return ctx.branch_kernels[index]
        conv = ctx.network.get_submodule(site.merged)
        return conv.weight  # type: ignore[return-value]

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Sorted per-channel scores of one kernel."""
        index = int(unit.split(":")[1])
        site = self._sites(ctx)[index]
        weight = self._weight(ctx, index, site)
        scores = kernel_scores(weight, normalize=self.normalize).sort().values
        return {
            "stage": site.stage,
            "kernel": int(weight.shape[-1]),
            "module": site.merged,
            "scores": [float(v) for v in scores],
            "mean": float(scores.mean()),
        }

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per kernel: stage, size, mean/median/max score."""
        out = []
        for unit, r in sorted(results.items(), key=lambda kv: int(kv[0].split(":")[1])):
            s = sorted(r["scores"])
            out.append(
                {
                    "model": model,
                    "kernel_site": unit,
                    "stage": r["stage"],
                    "size": r["kernel"],
                    "mean": round(r["mean"], 5),
                    "median": round(s[len(s) // 2], 5),
                    "max": round(s[-1], 5),
                }
            )
        return out

    def plot(self, figure: Any, results: Results) -> None:
        """Sorted score curves, one panel per stage, one colour per model."""
        stages = sorted({r["stage"] for units in results.values() for r in units.values()})
        colors = model_colors(list(results))
        axes = panels(figure, len(stages))
        for ax, stage in zip(axes, stages, strict=True):
            for model, units in results.items():
                labelled = False
                for r in units.values():
                    if r["stage"] != stage:
                        continue
                    n = len(r["scores"])
                    xs = [i / max(n - 1, 1) for i in range(n)]
                    ax.plot(
                        xs,
                        r["scores"],
                        color=colors[model],
                        label=None if labelled else f"{model} ({r['kernel']}x{r['kernel']})",
                    )
                    labelled = True
            ax.set_title(f"stage {stage + 1}")
            ax.set_xlabel("channel rank (normalized)")
            ax.set_ylabel("sum |w| d" + (" / sum |w|" if self.normalize else ""))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
