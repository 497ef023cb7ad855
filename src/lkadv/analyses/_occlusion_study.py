"""The occlusion analysis: accuracy with random or saliency-chosen patches zeroed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._occlusion import apply_patch_mask, auto_grid, drop_count, foreground, random_patch_masks
from lkadv.analyses._plotting import model_colors, panels
from lkadv.analyses._scoring import count_correct, parse_floats
from lkadv.errors import ConfigError
from lkadv.planner import derive_seed

__all__ = ["Occlusion"]

_MODES = ("random", "salient-drop", "salient-keep")


class Occlusion:
    """Random drop of ``floor(k * cells / steps)`` patches, and salient drop/keep at each lambda.

    Args:
        grid: Patches per side (0: 16 px patches from 112 px up, else 4 px: 224 -> 14, 28 -> 7).
        steps: Random-drop levels ``k = 0 .. steps - 1``.
        modes: Comma-separated subset of ``random,salient-drop,salient-keep``.
        lambdas: Shares of attention mass for the salient modes, each in (0, 1].
        saliency: Saliency model (``auto``: DINO ViT-S/16, or fm-vit on Fashion-MNIST).
        head: Attention head of the saliency model.

    Raises:
        ConfigError: On an unknown mode or a lambda outside (0, 1].
    """

    def __init__(
        self,
        grid: int = 0,
        steps: int = 10,
        modes: str = ",".join(_MODES),
        lambdas: str = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
        saliency: str = "auto",
        head: int = 1,
    ) -> None:
        self.grid, self.steps, self.saliency, self.head = grid, steps, saliency, head
        self.modes = tuple(m.strip() for m in modes.split(",") if m.strip())
        unknown = sorted(set(self.modes) - set(_MODES))
        if unknown or not self.modes:
            raise ConfigError(f"occlusion.modes: unknown {unknown or 'empty list'}; choose from {list(_MODES)}")
        self.lambdas = parse_floats(lambdas, "occlusion.lambdas", low=0.0, high=1.0, low_open=True)

    def _salient(self) -> bool:
        return any(m.startswith("salient") for m in self.modes)

    def _source(self, ctx: ModelContext) -> Any:
        return ctx.services["saliency"](self.saliency, self.head)

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """The saliency model's identity when salient modes run."""
        return {"saliency": self._source(ctx).identity} if self._salient() else {}

    def units(self, ctx: ModelContext) -> list[str]:
        """``random:k`` and ``salient-drop:lambda`` / ``salient-keep:lambda``."""
        side = min(ctx.spec.input_size[1:])
        if (self.grid or auto_grid(side)) > side:
            raise AnalysisSkipped(f"a {self.grid}x{self.grid} grid does not fit a {side} px input")
        out = [f"random:{k}" for k in range(self.steps)] if "random" in self.modes else []
        return out + [f"{m}:{lam:g}" for m in self.modes if m != "random" for lam in self.lambdas]

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Accuracy with the unit's patches zeroed (in [0, 1] pixel space, before normalization)."""
        x, y = ctx.images()
        grid = self.grid or auto_grid(min(x.shape[-2:]))
        cells = grid * grid
        mode, level = unit.split(":")
        if mode == "random":
            count = drop_count(int(level), cells, self.steps)
            gen = torch.Generator().manual_seed(derive_seed(ctx.seed, "occlusion", unit))
            masks = random_patch_masks(len(x), cells, count, gen)
            ratio = count / cells
        else:
            fg = foreground(self._source(ctx).maps(x, grid), float(level))
            masks = fg if mode == "salient-drop" else ~fg
            ratio = float(masks.double().mean())
        hits = count_correct(
            ctx.model, x, y, ctx.batch_size, lambda xb, s: apply_patch_mask(xb, masks[s : s + len(xb)], grid)
        )
        return {"correct": hits, "n": len(x), "mode": mode, "level": float(level), "dropped": ratio, "grid": grid}

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per unit: mode, level, dropped share, accuracy."""
        return [
            {
                "model": model,
                "mode": r["mode"],
                "level": round(r["level"] / self.steps if r["mode"] == "random" else r["level"], 4),
                "dropped": round(r["dropped"], 4),
                "accuracy": round(r["correct"] / r["n"], 4),
            }
            for r in results.values()
        ]

    def plot(self, figure: Any, results: Results) -> None:
        """Accuracy against drop ratio (random) or lambda (salient), one panel per mode."""
        colors = model_colors(list(results))
        axes = panels(figure, len(self.modes))
        for ax, mode in zip(axes, self.modes, strict=True):
            for model, units in results.items():
                pts = sorted(
                    (r["dropped"] if mode == "random" else r["level"], r["correct"] / r["n"])
                    for r in units.values()
                    if r["mode"] == mode
                )
                if pts:
                    ax.plot(*zip(*pts, strict=True), marker="o", ms=3, label=model, color=colors[model])
            ax.set_title(mode)
            ax.set_xlabel("drop ratio" if mode == "random" else "lambda (share of attention mass)")
            ax.set_ylabel("top-1")
            ax.set_ylim(0, 1)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7)
