"""Accuracy with its uncertainty: pure functions over per-sample outcomes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "accuracy", "wilson_interval"]


@dataclass(frozen=True)
class Estimate:
    """A proportion with its 95% Wilson interval.

    Attributes:
        value: ``k / n`` (NaN when ``n`` is 0).
        k: Successes.
        n: Trials.
        low: Lower end of the interval.
        high: Upper end of the interval.
    """

    value: float
    k: int
    n: int
    low: float
    high: float

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready form."""
        return {"value": self.value, "k": self.k, "n": self.n, "low": self.low, "high": self.high}


def wilson_interval(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (exact-ish at small n, unlike Wald).

    Args:
        k: Successes.
        n: Trials.
        z: Normal quantile (default: 95%).

    Returns:
        ``(low, high)``; ``(nan, nan)`` when ``n`` is 0.
    """
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy(correct: Sequence[bool] | np.ndarray) -> Estimate:
    """Top-1 (or robust) accuracy of per-sample correctness flags."""
    arr = np.asarray(correct, dtype=bool)
    n, k = int(arr.size), int(arr.sum())
    low, high = wilson_interval(k, n)
    return Estimate(k / n if n else math.nan, k, n, low, high)
