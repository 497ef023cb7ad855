"""The frequency analysis: accuracy drop under noise confined to one band of spatial frequency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from lkadv.analyses._base import ModelContext, Results
from lkadv.analyses._frequency import band_noise
from lkadv.analyses._plotting import model_colors, panels
from lkadv.analyses._scoring import count_correct
from lkadv.errors import ConfigError
from lkadv.planner import derive_seed

__all__ = ["Frequency"]

_CHUNK = 64  # noise is drawn per chunk of samples, so a batch size never changes it


class Frequency:
    """Band-limited noise at ``f = 0, step, ..., top`` (units of pi), half width ``s``.

    Args:
        rms: Root mean square of the noise per image, in [0, 1] pixel units (the study
            did not publish its magnitude).
        step: Spacing of band centres.
        top: Highest band centre (1.0: Nyquist).
        half_width: Half width of each band.

    Raises:
        ConfigError: On non-positive values.
    """

    def __init__(self, rms: float = 0.1, step: float = 0.1, top: float = 1.0, half_width: float = 0.05) -> None:
        if min(rms, step, half_width) <= 0 or not 0 < top <= 1:
            raise ConfigError("frequency: rms, step and half_width must be positive and top in (0, 1]")
        self.rms, self.half_width = rms, half_width
        self.centres = [round(i * step, 6) for i in range(round(top / step) + 1)]

    def identity(self, ctx: ModelContext) -> dict[str, Any]:
        """Nothing beyond the parameters."""
        return {}

    def units(self, ctx: ModelContext) -> list[str]:
        """``clean`` and one unit per band centre."""
        return ["clean", *(f"band:{f:g}" for f in self.centres)]

    def _noisy(self, ctx: ModelContext, unit: str) -> Any:
        def transform(xb: torch.Tensor, start: int) -> torch.Tensor:
            f = float(unit.split(":")[1])
            first, last = start // _CHUNK, (start + len(xb) - 1) // _CHUNK
            parts = []
            for chunk in range(first, last + 1):
                gen = torch.Generator(device=xb.device).manual_seed(derive_seed(ctx.seed, "frequency", unit, chunk))
                parts.append(band_noise((_CHUNK, *xb.shape[1:]), f, self.half_width, self.rms, gen, device=xb.device))
            noise = torch.cat(parts)[start - first * _CHUNK :][: len(xb)]
            return (xb + noise).clamp(0, 1)

        return transform

    def compute(self, ctx: ModelContext, unit: str) -> dict[str, Any]:
        """Accuracy on clean or band-noised images (clipped to [0, 1])."""
        x, y = ctx.images()
        transform = None if unit == "clean" else self._noisy(ctx, unit)
        return {"correct": count_correct(ctx.model, x, y, ctx.batch_size, transform), "n": len(x)}

    def rows(self, model: str, results: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        """One row per band: accuracy and its drop from clean."""
        clean = results["clean"]["correct"] / results["clean"]["n"]
        out = []
        for unit, r in results.items():
            if unit == "clean":
                continue
            acc = r["correct"] / r["n"]
            f = float(unit.split(":")[1])
            out.append({"model": model, "band_pi": f, "accuracy": round(acc, 4), "drop": round(clean - acc, 4)})
        return sorted(out, key=lambda row: row["band_pi"])

    def plot(self, figure: Any, results: Results) -> None:
        """Accuracy drop per band centre, one line per model."""
        colors = model_colors(list(results))
        (ax,) = panels(figure, 1, width=5.5)
        for model, units in results.items():
            rows = self.rows(model, units)
            ax.plot(
                [r["band_pi"] for r in rows],
                [r["drop"] for r in rows],
                marker="o",
                ms=3,
                label=model,
                color=colors[model],
            )
        ax.set_xlabel("band centre (x pi)")
        ax.set_ylabel("top-1 drop")
        ax.set_title(f"band-limited noise, rms {self.rms:g}, half width {self.half_width:g} pi")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
