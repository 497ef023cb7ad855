"""Seeded, class-balanced subsets whose sample ids are recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Subset", "balanced_subset"]


@dataclass(frozen=True)
class Subset:
    """Which samples of a dataset a run uses, in order.

    Attributes:
        positions: Indices into the dataset's ImageSet, ascending.
        ids: Their stable sample ids.
        total: Size of the whole dataset.
        rule: How the subset was drawn (``"all"`` or ``"balanced(limit=...,seed=...)"``).
        digest: sha256 of the ids, part of every cell key.
    """

    positions: tuple[int, ...]
    ids: tuple[str, ...]
    total: int
    rule: str
    digest: str

    def __len__(self) -> int:
        return len(self.positions)


def _digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def balanced_subset(ids: Sequence[str], labels: Sequence[int], limit: int | None, seed: int) -> Subset:
    """Draw ``limit`` samples with classes as equal as possible.

    Each class gets ``limit // K`` samples (or all it has), the remainder goes to
    classes in a seeded order, and within a class samples are drawn uniformly.
    ``limit`` of ``None`` or 0, or not below the dataset size, means all samples.

    Args:
        ids: Sample ids of the whole dataset.
        labels: Their labels.
        limit: Subset size.
        seed: Draw seed.

    Returns:
        The subset, positions ascending.
    """
    n = len(ids)
    if not limit or limit >= n:
        return Subset(tuple(range(n)), tuple(ids), n, "all", _digest(ids))
    labels_arr = np.asarray(labels)
    rng = np.random.default_rng(seed)
    classes = np.unique(labels_arr)
    pools = {int(c): rng.permutation(np.flatnonzero(labels_arr == c)) for c in classes}
    quota = {c: min(len(p), limit // len(classes)) for c, p in pools.items()}
    spare = limit - sum(quota.values())
    while spare > 0:
        open_classes = [c for c in rng.permutation(list(pools)) if quota[int(c)] < len(pools[int(c)])]
        if not open_classes:
            break
        for c in open_classes[:spare]:
            quota[int(c)] += 1
            spare -= 1
    chosen = np.sort(np.concatenate([pools[c][: quota[c]] for c in pools]))
    sel_ids = tuple(ids[int(i)] for i in chosen)
    return Subset(tuple(int(i) for i in chosen), sel_ids, n, f"balanced(limit={limit},seed={seed})", _digest(sel_ids))
