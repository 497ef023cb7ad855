"""Loaders and doctor counters of the ImageNet benchmarks (imported only when data is read)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lkadv.config import data_variable
from lkadv.datasets._files import VIDEO_SUFFIXES, FileImageSet, FileSamples
from lkadv.datasets.imagenet import _layouts as L
from lkadv.datasets.imagenet._labels import imagenet_synsets, subset_synsets
from lkadv.datasets.imagenet._names import P_PERTURBATIONS, p_folder_parts
from lkadv.datasets.imagenet._plugin import DATASETS, VERSION
from lkadv.specs import LoadContext, Preprocessing

__all__ = ["counter", "load"]


def _where(name: str) -> L.Where:
    d = DATASETS[name]
    return L.Where(name, d.layout, data_variable(name), d.folder)


def _listing(name: str, root: Path, context: LoadContext) -> FileSamples:
    where = _where(name)
    if name in ("imagenet", "stylized-imagenet"):
        return L.list_val_like(root, where, "val")
    if name == "imagenet-sketch":
        return L.list_val_like(root, where, "sketch")
    if name == "imagenet-v2":
        return L.list_imagenet_v2(root, where)
    if name == "imagenet-c":
        return L.list_imagenet_c(root, where)
    if name in ("imagenet-a", "imagenet-r"):
        paths, labels = L.list_class_tree(root, where, subset_synsets(name[-1]))
        return FileSamples.of_images(root, paths, labels, info={"images": len(paths)})
    if name == "imagenet-o":
        return L.list_imagenet_o(root, where, context.companions.get("imagenet"), _where("imagenet"))
    if name == "imagenet-9":
        return L.list_imagenet_9(root, where)
    if name == "imagenet-p":
        return L.list_imagenet_p(root, where, context.on_bad_image)
    raise KeyError(name)


_LISTINGS: dict[tuple[Any, ...], FileSamples] = {}


def load(name: str) -> Callable[..., FileImageSet]:
    """The loader of one benchmark: ``(root, preprocessing, context) -> FileImageSet``.

    The folder listing is made once per process and root (and its modification
    time), then shared by every preprocessing.
    """

    def loader(root: Path | None, preprocessing: Preprocessing, context: LoadContext | None = None) -> FileImageSet:
        context = context or LoadContext()
        where = _where(name)
        if root is None:
            raise where.error(Path("."), "no root is configured")
        stamp = root.stat().st_mtime_ns if root.exists() else 0
        companions = tuple(sorted((k, str(v)) for k, v in context.companions.items()))
        key: tuple[Any, ...] = (name, str(root), stamp, companions, context.on_bad_image)
        if key not in _LISTINGS:
            _LISTINGS.clear()  # one dataset at a time: never hold several huge listings
            _LISTINGS[key] = _listing(name, root, context)
        return FileImageSet(_LISTINGS[key], preprocessing, dataset=name, version=VERSION, workers=context.workers)

    loader.__name__ = loader.__qualname__ = f"load_{name.replace('-', '_')}"
    return loader


def _count_files(root: Path, suffixes: tuple[str, ...]) -> int:
    total = 0
    for _, _, files in os.walk(root):
        total += sum(1 for f in files if f.lower().endswith(suffixes))
    return total


def counter(name: str) -> Callable[[Path], int]:
    """``doctor``'s image count, after checking the layout (a bad layout raises its DataError)."""

    def count(root: Path) -> int:
        context = LoadContext()
        if name == "imagenet-p":
            where = _where(name)
            for folder in sorted(p for p in root.iterdir() if p.is_dir()):
                if p_folder_parts(folder.name)[0] not in P_PERTURBATIONS:
                    raise where.error(root, f"unknown perturbation folder {folder.name!r}")
                L.list_class_tree(folder, where, imagenet_synsets(), suffixes=VIDEO_SUFFIXES, require_all=False)
            return _count_files(root, VIDEO_SUFFIXES)
        if name == "imagenet-o":
            return len(L.list_class_tree(root, _where(name), subset_synsets("a"), require_all=False)[0])
        return len(_listing(name, root, context).ids)

    return count


for _name in DATASETS:
    globals()["load_" + _name.replace("-", "_")] = load(_name)
    globals()["count_" + _name.replace("-", "_")] = counter(_name)
