"""The lesion analysis: top-1 with n random blocks replaced by identity, over seeded draws."""

from __future__ import annotations

from collections.abc import Mapping
from statistics import mean, pstdev
from typing import Any

import numpy as np
import torch

from lkadv.analyses._anatomy import BlockGroup
from lkadv.analyses._base import AnalysisSkipped, ModelContext, Results
from lkadv.analyses._lesion import lesioned, shape_preserving
from lkadv.analyses._plotting import model_colors, panels
from lkadv.analyses._scoring import count_correct
from lkadv.errors import ConfigError
from lkadv.planner import derive_seed

__all__ = ["Lesion"]


class Lesion:
    """Skip ``n = 0 .. max_blocks`` random block groups, ``draws`` seeded draws each.

    Args:
        draws: Draws per n (the study: 10).
        max_blocks: Largest n (0: every group in the pool).
        stage: Pool of groups: ``most`` (the stage(s) with most groups: stage 3 of
            RepLKNet-31B, the study's), ``all``, or a stage number (1-based).

    Raises:
        ConfigError: On a bad stage or count.
    """

    def __init__(self, draws: int = 10, max_blocks: int = 0, stage: str = "most") -> None:
        if draws < 1 or max_blocks < 0:
            raise ConfigError("lesion.draws must be positive and lesion.max_blocks non-negative")
        if stage not in ("most", "all") and not (stage.isdigit() and int(stage) >= 1):
            raise ConfigError(f"lesion.stage must be 'most', 'all' or a stage number from 1, got {stage!r}")
        self.draws, self.max_blocks, self.stage = draws, max_blocks, stage

    def _pool(self, ctx: ModelContext) -> list[BlockGroup]:
        groups = list(ctx.anatomy.blocks or ())
        probe = torch.rand((2, *ctx.spec.input_size), generator=torch.Generator().manual_seed(0))
        names = [m for g in groups for m in g.modules]
        keep = shape_preserving(ctx.model, ctx.network, names, probe.to(ctx.device))
        groups = [g for g in groups if all(m in keep for m in g.modules)]
        if self.stage == "all" or not groups:
            return groups
        if self.stage == "most":
            counts = {s: sum(g.stage == s for g in groups) for s in {g.stage for g in groups}}
            return [g for g in groups if counts[g.stage] == max(counts.values())]
        return [g for g in groups if g.stage == int(self.stage) - 1]

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """The pool of groups the draws come from."""
        return {"pool": [list(g.modules) for g in self._pool(ctx)]}

    def units(self, ctx: ModelContext) -> list[str]:
        """``n=0`` and ``n=k:draw=d``."""
        pool = self._pool(ctx)
        if not pool:
            raise AnalysisSkipped(f"no shape-preserving blocks in the pool (stage={self.stage})")
        top = len(pool) if not self.max_blocks else min(self.max_blocks, len(pool))
        return ["n=0", *(f"n={n}:draw={d}" for n in range(1, top + 1) for d in range(self.draws))]

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Accuracy with the unit's draw of groups skipped."""
        x, y = ctx.images()
        n = int(unit.split(":")[0][2:])
        pool = self._pool(ctx)
        rng = np.random.default_rng(derive_seed(ctx.seed, "lesion", unit))
        chosen = [pool[i] for i in sorted(rng.choice(len(pool), size=n, replace=False))] if n else []
        modules = [m for g in chosen for m in g.modules]
        with lesioned(ctx.network, modules):
            hits = count_correct(ctx.model, x, y, ctx.batch_size)
        return {"correct": hits, "n": len(x), "blocks": n, "skipped": modules}

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per n: mean and spread of top-1 over the draws."""
        by_n: dict[int, list[float]] = {}
        for r in results.values():
            by_n.setdefault(r["blocks"], []).append(r["correct"] / r["n"])
        return [
            {"model": model, "blocks": n, "draws": len(v), "accuracy": round(mean(v), 4), "std": round(pstdev(v), 4)}
            for n, v in sorted(by_n.items())
        ]

    def plot(self, figure: Any, results: Results) -> None:
        """Mean top-1 against lesioned groups, with the draws' spread."""
        colors = model_colors(list(results))
        (ax,) = panels(figure, 1, width=5.5)
        for model, units in results.items():
            rows = self.rows(model, units)
            ax.errorbar(
                [r["blocks"] for r in rows],
                [r["accuracy"] for r in rows],
                yerr=[r["std"] for r in rows],
                marker="o",
                ms=3,
                capsize=3,
                label=model,
                color=colors[model],
            )
        ax.set_xlabel("blocks replaced by identity")
        ax.set_ylabel("top-1")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
