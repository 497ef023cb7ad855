"""The benchmarks' metrics in their published form: pure functions over per-sample results.

References: AUPR as in Hendrycks et al., "Natural Adversarial Examples"
(ImageNet-O: out-of-distribution images are the positive class, the score is
the negative max softmax over the 200 classes), computed like scikit-learn's
``average_precision_score``; flip probability and top-5 distance as in
Hendrycks & Dietterich's ImageNet-P evaluation (noise sequences compare every
frame with the first, the others compare consecutive frames, ``difficulty``
frames apart); CE/mCE with the AlexNet errors of ImageNet-C, looked up by name;
BG-Gap as in the backgrounds challenge (Mixed-Same minus Mixed-Rand).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from lkadv.metrics import (
    ALEXNET_ERRORS,
    STANDARD_CORRUPTIONS,
    alexnet_baseline,
    corruption_error,
    mean_ce,
    mean_error,
)

__all__ = [
    "average_precision",
    "bg_gap",
    "corruption_errors",
    "flip_probability",
    "ood_aupr",
    "top5_distance",
]


def average_precision(positive: Sequence[bool] | np.ndarray, score: Sequence[float] | np.ndarray) -> float:
    """Area under the precision-recall curve, as the step sum ``sum_n (R_n - R_{n-1}) P_n``.

    Thresholds are the distinct scores, highest first; tied scores enter together.
    This is scikit-learn's ``average_precision_score`` definition (no interpolation).

    Args:
        positive: Whether each sample belongs to the positive class.
        score: Higher means more positive.

    Returns:
        The average precision in [0, 1] (NaN without positives).
    """
    pos = np.asarray(positive, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    n_pos = int(pos.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    s, pos = s[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each tie block
    tp = np.cumsum(pos)[last]
    predicted = last + 1
    precision = tp / predicted
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def ood_aupr(is_ood: Sequence[bool] | np.ndarray, max_softmax: Sequence[float] | np.ndarray) -> float:
    """ImageNet-O's AUPR: out-of-distribution samples positive, scored by ``-max softmax``."""
    return average_precision(is_ood, -np.asarray(max_softmax, dtype=np.float64))


def _pairs(n_frames: int, noise: bool, difficulty: int) -> list[tuple[int, int]]:
    """Frame pairs compared in one sequence."""
    if noise:
        return [(0, j) for j in range(1, n_frames)]
    pairs = []
    for start in range(difficulty):
        chain = list(range(start, n_frames, difficulty))
        pairs += list(itertools.pairwise(chain))
    return pairs


def flip_probability(predictions: Sequence[Sequence[int] | np.ndarray], *, noise: bool, difficulty: int = 1) -> float:
    """Mean over sequences of the fraction of compared frame pairs whose top-1 differs.

    Args:
        predictions: Per sequence, the top-1 class of each frame, in frame order.
        noise: Noise sequences compare every frame with the first (they are not temporal).
        difficulty: Frames apart for the other sequences.

    Returns:
        The flip probability in [0, 1].
    """
    per_video = []
    for preds in predictions:
        p = np.asarray(preds)
        pairs = _pairs(len(p), noise, difficulty)
        per_video.append(np.mean([p[a] != p[b] for a, b in pairs]))
    return float(np.mean(per_video)) if per_video else float("nan")


def _t5d(first: np.ndarray, second: np.ndarray) -> int:
    """Top-5 distance between two rankings given as their top-5 classes (best first).

    For the class ranked r in ``first``, sigma_r is its rank in ``second``; ranks
    past 5 all count as 6, which is all the distance can see.
    """
    where = {int(c): i + 1 for i, c in enumerate(second[:5])}
    total = 0
    for r, c in enumerate(first[:5], start=1):
        sigma = where.get(int(c), 6)
        total += abs(min(sigma - 1, 5) - (r - 1))
    return total


def top5_distance(top5: Sequence[np.ndarray], *, noise: bool, difficulty: int = 1) -> float:
    """Mean over sequences of the mean top-5 distance of compared frame pairs.

    Args:
        top5: Per sequence, ``[frames, 5]`` top-5 classes of each frame (best first).
        noise: Noise sequences compare every frame with the first.
        difficulty: Frames apart for the other sequences.

    Returns:
        The mean top-5 distance (0 to 15).
    """
    per_video = []
    for seq in top5:
        t = np.asarray(seq)
        pairs = _pairs(len(t), noise, difficulty)
        per_video.append(np.mean([_t5d(t[a], t[b]) for a, b in pairs]))
    return float(np.mean(per_video)) if per_video else float("nan")


def corruption_errors(errors: Mapping[str, Mapping[int, float]]) -> dict[str, float]:
    """CE per corruption and the mCE, normalized by AlexNet (looked up by name).

    A thin view over :mod:`lkadv.metrics` (the one home of the constants and
    the CE and mCE arithmetic) in the keys the ImageNet-C report uses.

    Args:
        errors: Top-1 error by corruption name and severity (fractions).

    Returns:
        ``CE:<name>`` for every corruption with AlexNet errors, ``mean error:<name>``
        for every corruption, ``mCE`` when all 15 are present, and ``mean error``
        (unnormalized, over the 15 when all are present, else over those given).
    """
    out: dict[str, float] = {}
    baseline = alexnet_baseline([n for n in errors if n in ALEXNET_ERRORS])
    for name in errors:
        out[f"mean error:{name}"] = mean_error(errors, [name])
        if name in ALEXNET_ERRORS:
            out[f"CE:{name}"] = corruption_error(errors, baseline, name)
    if all(c in errors for c in STANDARD_CORRUPTIONS):
        out["mCE"] = mean_ce(errors, baseline)
        out["mean error"] = float(np.mean([out[f"mean error:{c}"] for c in STANDARD_CORRUPTIONS]))
    elif errors:
        out["mean error"] = float(np.mean([out[f"mean error:{c}"] for c in errors]))
    return out


def bg_gap(mixed_same: float, mixed_rand: float) -> float:
    """The backgrounds challenge's BG-Gap: Mixed-Same accuracy minus Mixed-Rand accuracy."""
    return mixed_same - mixed_rand
