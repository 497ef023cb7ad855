"""Seeded or fixed class-balanced subsets whose sample ids are recorded."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from lkadv.config import RunOptions
from lkadv.errors import ConfigError
from lkadv.planner._presets import expand_attack_presets
from lkadv.specs import DatasetSpec, ImageSet

__all__ = ["Subset", "balanced_subset", "draw_subset", "fixed_subset", "named_subset"]


@dataclass(frozen=True)
class Subset:
    """Which samples of a dataset a run uses, in order.

    Attributes:
        positions: Indices into the dataset's ImageSet, ascending.
        ids: Their stable sample ids.
        total: Size of the whole dataset.
        rule: How the subset was drawn (``"all"``, ``"balanced(limit=...,seed=...)"``,
            ``"fixed(n=...)"``...).
        digest: sha256 of the ids, part of every cell key.
    """

    positions: tuple[int, ...]
    ids: tuple[str, ...]
    total: int
    rule: str
    digest: str

    def __len__(self) -> int:
        return len(self.positions)

    def without(self, positions: Sequence[int], reason: str) -> Subset:
        """The subset less some positions (unreadable images...), with the reason in its rule."""
        drop = set(positions)
        keep = [(p, i) for p, i in zip(self.positions, self.ids, strict=True) if p not in drop]
        ids = tuple(i for _, i in keep)
        rule = f"{self.rule}, less {len(self.positions) - len(keep)} {reason}"
        return Subset(tuple(p for p, _ in keep), ids, self.total, rule, _digest(ids))


def _digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _hash_order(keys: Sequence[str]) -> np.ndarray:
    """Positions of ``keys`` sorted by the sha256 of each key: a fixed, machine-independent shuffle."""
    digests = [hashlib.sha256(k.encode()).hexdigest() for k in keys]
    return np.asarray(sorted(range(len(keys)), key=digests.__getitem__), dtype=np.int64)


def _units(
    ids: Sequence[str], labels: Sequence[int], groups: Sequence[str] | None
) -> tuple[list[str], np.ndarray, list[list[int]]]:
    """Drawing units: single samples, or groups (a video's frames) that are kept whole."""
    if groups is None:
        return list(ids), np.asarray(labels), [[i] for i in range(len(ids))]
    order: dict[str, int] = {}
    members: list[list[int]] = []
    unit_labels: list[int] = []
    for i, g in enumerate(groups):
        if g not in order:
            order[g] = len(members)
            members.append([])
            unit_labels.append(int(labels[i]))
        members[order[g]].append(i)
    return list(order), np.asarray(unit_labels), members


def _make(ids: Sequence[str], members: list[list[int]], chosen: np.ndarray, total: int, rule: str) -> Subset:
    positions = sorted(p for u in chosen for p in members[int(u)])
    sel_ids = tuple(ids[p] for p in positions)
    return Subset(tuple(positions), sel_ids, total, rule, _digest(sel_ids))


def balanced_subset(
    ids: Sequence[str],
    labels: Sequence[int],
    limit: int | None,
    seed: int,
    *,
    groups: Sequence[str] | None = None,
) -> Subset:
    """Draw ``limit`` samples (or groups) with classes as equal as possible.

    Each class gets ``limit // K`` units (or all it has), the remainder goes to
    classes in a seeded order, and within a class units are drawn uniformly.
    ``limit`` of ``None`` or 0, or not below the number of units, means all.

    Args:
        ids: Sample ids of the whole dataset.
        labels: Their labels (or strata: any ints to balance over).
        limit: Number of units to draw (samples, or groups when ``groups`` is given).
        seed: Draw seed.
        groups: One key per sample; samples sharing a key are drawn together.

    Returns:
        The subset, positions ascending.
    """
    n = len(ids)
    keys, unit_labels, members = _units(ids, labels, groups)
    if not limit or limit >= len(keys):
        return Subset(tuple(range(n)), tuple(ids), n, "all", _digest(ids))
    rng = np.random.default_rng(seed)
    classes = np.unique(unit_labels)
    pools = {int(c): rng.permutation(np.flatnonzero(unit_labels == c)) for c in classes}
    quota = {c: min(len(p), limit // len(classes)) for c, p in pools.items()}
    spare = limit - sum(quota.values())
    while spare > 0:
        open_classes = [c for c in rng.permutation(list(pools)) if quota[int(c)] < len(pools[int(c)])]
        if not open_classes:
            break
        for c in open_classes[:spare]:
            quota[int(c)] += 1
            spare -= 1
    chosen = np.concatenate([pools[c][: quota[c]] for c in pools])
    unit = "groups" if groups is not None else "samples"
    rule = f"balanced(limit={limit},seed={seed})" + ("" if unit == "samples" else f" of {unit}")
    return _make(ids, members, chosen, n, rule)


def fixed_subset(
    ids: Sequence[str], labels: Sequence[int], size: int, *, groups: Sequence[str] | None = None
) -> Subset:
    """A class-balanced subset that depends on the sample ids only, never on a seed.

    Within each class, units are taken in the order of the sha256 of their ids;
    classes get ``size // K`` each and the remainder goes to classes in the order
    of the sha256 of their label. The same ids give the same subset on every
    machine, and adding files to one class does not change the others' picks.

    Args:
        ids: Sample ids of the whole dataset.
        labels: Their labels (or strata).
        size: Number of units (samples or groups).
        groups: One key per sample; samples sharing a key are drawn together.

    Returns:
        The subset, positions ascending.
    """
    n = len(ids)
    keys, unit_labels, members = _units(ids, labels, groups)
    if size >= len(keys):
        return Subset(tuple(range(n)), tuple(ids), n, f"fixed(n={size}): all", _digest(ids))
    classes = [int(c) for c in np.unique(unit_labels)]
    pools = {}
    for c in classes:
        idx = np.flatnonzero(unit_labels == c)
        pools[c] = idx[_hash_order([keys[int(i)] for i in idx])]
    quota = {c: min(len(p), size // len(classes)) for c, p in pools.items()}
    spare = size - sum(quota.values())
    class_order = [classes[int(i)] for i in _hash_order([str(c) for c in classes])]
    while spare > 0:
        open_classes = [c for c in class_order if quota[c] < len(pools[c])]
        if not open_classes:
            break
        for c in open_classes[:spare]:
            quota[c] += 1
            spare -= 1
    chosen = np.concatenate([pools[c][: quota[c]] for c in classes])
    return _make(ids, members, chosen, n, f"fixed(n={size})")


_FIXED = re.compile(r"^fixed-(\d+)(k?)$")


def _file_ids(name: str, path: Path, index: dict[str, int]) -> list[str]:
    """The ids of a subset file: one a line, the whole line (ImageNet-9 ids hold spaces).

    A line that is not an id but whose first field is (``id label`` lists) gives that field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(
            f"subset {name!r}: {path} cannot be read as UTF-8 text ({exc}); give one sample id a line"
        ) from exc
    wanted = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            wanted.append(line if line in index or line.split()[0] not in index else line.split()[0])
    if not wanted:
        raise ConfigError(f"subset {name!r}: {path} lists no sample id; give one sample id a line")
    return wanted


def named_subset(
    name: str, ids: Sequence[str], labels: Sequence[int], *, groups: Sequence[str] | None = None
) -> Subset:
    """A subset named on the command line: ``fixed-5k``, ``fixed-N`` or ``file:PATH``.

    ``fixed-5k`` is a RobustBench-style quick set: 5,000 samples, class-balanced
    (5 per class on ImageNet), fixed by :func:`fixed_subset`. It is not
    RobustBench's own list; for that list, give it as ``file:PATH``.

    Raises:
        ConfigError: On an unknown name, a missing file, or ids the dataset lacks.
    """
    match = _FIXED.match(name.strip().lower())
    if match:
        size = int(match[1]) * (1000 if match[2] else 1)
        if size <= 0:
            raise ConfigError(f"subset {name!r}: the size must be positive")
        return fixed_subset(ids, labels, size, groups=groups)
    if name.startswith("file:"):
        path = Path(name[5:]).expanduser()
        if not path.is_file():
            raise ConfigError(f"subset {name!r}: {path} is not a file; give a text file with one sample id a line")
        index = {s: i for i, s in enumerate(ids)}
        wanted = _file_ids(name, path, index)
        missing = [w for w in wanted if w not in index]
        if missing:
            raise ConfigError(
                f"subset {name!r}: {len(missing)} id(s) are not in the dataset, e.g. {missing[:3]}; "
                f"ids look like {list(ids[:2])}"
            )
        positions = sorted({index[w] for w in wanted})
        sel = tuple(ids[p] for p in positions)
        return Subset(tuple(positions), sel, len(ids), f"file({path.name})", _digest(sel))
    raise ConfigError(f"unknown subset {name!r}; use fixed-5k, fixed-N (e.g. fixed-1000) or file:PATH")


def draw_subset(imageset: ImageSet, options: RunOptions, dataset: DatasetSpec) -> Subset:
    """The run's samples: the named subset, else a seeded class-balanced draw of ``--limit``.

    Balancing uses the imageset's ``strata`` when it has them (else its labels);
    its ``groups`` (frames of one video) are kept together.

    Raises:
        ConfigError: If both a named subset and a limit are given, or the named subset is bad.
    """
    per_class = expand_attack_presets(options)[2]  # a preset's images per class (the study's 5)
    if per_class is not None and options.limit is None and options.subset is None:
        options = replace(options, limit=per_class * len(set(imageset.labels.tolist())))
    strata = getattr(imageset, "strata", None)
    balance = imageset.labels.tolist() if strata is None else [int(v) for v in strata]
    groups = getattr(imageset, "groups", None)
    if options.subset is not None:
        if options.limit is not None:
            raise ConfigError("give either --subset or --limit, not both")
        return named_subset(options.subset, imageset.ids, balance, groups=groups)
    limit = dataset.default_limit if options.limit is None else options.limit
    return balanced_subset(imageset.ids, balance, limit, options.seed, groups=groups)
