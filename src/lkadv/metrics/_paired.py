"""Paired comparison of two classifiers on the same samples: the exact McNemar test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["PairedTest", "mcnemar_exact", "paired_test"]


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the two discordant counts.

    Under the null hypothesis each discordant sample is equally likely to favour
    either model, so the smaller count is Binomial(only_a + only_b, 1/2); the
    p-value doubles its lower tail. The tail is summed in log space, so large
    counts neither overflow nor take big-integer time.

    Args:
        only_a: Samples only the first model gets right.
        only_b: Samples only the second model gets right.

    Returns:
        The p-value in [0, 1] (1 when there is no discordant sample).

    Raises:
        ValueError: On a negative count.
    """
    if only_a < 0 or only_b < 0:
        raise ValueError(f"discordant counts must be >= 0, got {only_a} and {only_b}")
    n = only_a + only_b
    if n == 0:
        return 1.0
    k = min(only_a, only_b)
    log_terms = [_log_comb(n, i) - n * math.log(2) for i in range(k + 1)]
    top = max(log_terms)
    tail = math.exp(top) * math.fsum(math.exp(t - top) for t in log_terms)
    return min(1.0, 2.0 * tail)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


@dataclass(frozen=True)
class PairedTest:
    """Two models' per-sample correctness on the same samples, cross-tabulated and tested.

    Attributes:
        n: Samples.
        both: Right for both models.
        only_a: Right for the first model only.
        only_b: Right for the second model only.
        neither: Wrong for both.
        p_value: Two-sided exact McNemar p-value.
    """

    n: int
    both: int
    only_a: int
    only_b: int
    neither: int
    p_value: float

    @property
    def delta(self) -> float:
        """Accuracy of the second model minus the first's (NaN over no sample)."""
        return (self.only_b - self.only_a) / self.n if self.n else math.nan

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready form."""
        return {
            "n": self.n,
            "both": self.both,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "neither": self.neither,
            "p_value": self.p_value,
        }


def paired_test(correct_a: Sequence[bool] | np.ndarray, correct_b: Sequence[bool] | np.ndarray) -> PairedTest:
    """Cross-tabulate two aligned correctness vectors and run the exact McNemar test.

    Args:
        correct_a: Per-sample correctness of the first model.
        correct_b: Per-sample correctness of the second model, same samples, same order.

    Returns:
        The table and its p-value.

    Raises:
        ValueError: If the vectors differ in length (the samples cannot be paired).
    """
    a = np.asarray(correct_a, dtype=bool)
    b = np.asarray(correct_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"cannot pair {a.size} outcomes with {b.size}: a paired test needs the same samples")
    only_a, only_b = int(np.sum(a & ~b)), int(np.sum(b & ~a))
    both, neither = int(np.sum(a & b)), int(np.sum(~a & ~b))
    return PairedTest(int(a.size), both, only_a, only_b, neither, mcnemar_exact(only_a, only_b))
