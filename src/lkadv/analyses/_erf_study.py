"""The effective receptive field analysis (RepLKNet's protocol) with its area ratios."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._erf import area_ratio, erf_contribution, erf_scale
from lkadv.analyses._plotting import panels
from lkadv.analyses._scoring import parse_floats
from lkadv.analyses._variance import as_maps
from lkadv.errors import ConfigError

__all__ = ["ERF"]

_STORED_SIDE = 64  # the stored heat map is pooled to at most this side; ratios use the full map


class ERF:
    """Gradient of the centre of the last feature map w.r.t. the input, over ``images`` images.

    Args:
        size: Input side (0: the model's own; the paper used 1024).
        images: Number of images averaged.
        thresholds: Shares of the total contribution for the area ratios.

    Raises:
        ConfigError: On bad values.
    """

    def __init__(self, size: int = 0, images: int = 50, thresholds: str = "0.2,0.3,0.5,0.99") -> None:
        if size < 0 or images < 1:
            raise ConfigError("erf.size must be >= 0 and erf.images positive")
        self.size, self.images = size, images
        self.thresholds = parse_floats(thresholds, "erf.thresholds", low=0.0, high=1.0, low_open=True)

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """Nothing beyond the parameters and the anatomy."""
        return {}

    def units(self, ctx: ModelContext) -> list[str]:
        """One unit."""
        if not ctx.anatomy.features:
            raise AnalysisSkipped("the model declares no feature-map modules")
        return ["all"]

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Contribution map, its log-scaled heat map and area ratios."""
        x, _ = ctx.images()
        x = x[: self.images]
        if self.size and x.shape[-1] != self.size:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        last = ctx.network.get_submodule((ctx.anatomy.features or ())[-1])
        captured: dict[str, torch.Tensor] = {}
        handle = last.register_forward_hook(lambda _m, _a, out: captured.__setitem__("maps", as_maps(out)))

        def features(inp: torch.Tensor) -> torch.Tensor:
            ctx.model(inp)
            return captured["maps"]

        device = ctx.device
        total = torch.zeros(x.shape[-2:], dtype=torch.float64)
        try:
            with torch.enable_grad():
                for start in range(0, len(x), ctx.batch_size):
                    total += erf_contribution(features, x[start : start + ctx.batch_size].to(device)).cpu()
        except RuntimeError as exc:
            raise AnalysisSkipped(f"the model cannot take a {x.shape[-1]} px input: {exc}") from exc
        finally:
            handle.remove()
        mean = total / len(x)
        heat = erf_scale(mean)
        side = min(_STORED_SIDE, heat.shape[-1])
        stored = F.adaptive_avg_pool2d(heat[None, None], side)[0, 0]
        return {
            "size": int(x.shape[-1]),
            "images": len(x),
            "ratios": {f"{t:g}": area_ratio(mean, t) for t in self.thresholds},
            "heat": [[round(float(v), 5) for v in row] for row in stored],
        }

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row: the area ratio at each threshold."""
        r = results["all"]
        return [{"model": model, "size": r["size"], **{f"t={t}": round(v, 4) for t, v in r["ratios"].items()}}]

    def plot(self, figure: Any, results: Results) -> None:
        """Heat maps side by side, each titled with its area ratios."""
        axes = panels(figure, len(results), width=3.6, height=3.8)
        for ax, (model, units) in zip(axes, results.items(), strict=True):
            r = units["all"]
            ax.imshow(r["heat"], cmap="RdYlGn", vmin=0, vmax=1)
            ratios = ", ".join(f"{t}: {v:.3f}" for t, v in r["ratios"].items())
            ax.set_title(f"{model}\n{ratios}", fontsize=7)
            ax.set_xticks([])
            ax.set_yticks([])
