"""Cue-conflict images (model-vs-human layout): shape of one category, texture of another.

Layout: ``<root>/<category>/<shape><i>-<texture><j>.png`` with 16 category folders,
and ``<root>/categories.json`` mapping each model label space to the class
indices of each category, e.g. ``{"imagenet-1k": {"airplane": [404], ...}}``
(model-vs-human's ``human_categories``; lkadv ships no such table, so a
label space without one is reported, never guessed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lkadv.errors import DataError
from lkadv.specs import Preprocessing

__all__ = ["CUE_CONFLICT_LAYOUT", "CueConflictSet", "load_cue_conflict"]

CUE_CONFLICT_LAYOUT = (
    "<root>/<category>/<shape><i>-<texture><j>.png (16 category folders, model-vs-human's cue-conflict), "
    'plus <root>/categories.json: {"<label space>": {"<category>": [class indices]}}'
)
_NAME = re.compile(r"^([a-z_]+?)\d+-([a-z_]+?)\d+$")


class CueConflictSet:
    """The cue-conflict images under one preprocessing, with their texture categories.

    Attributes:
        categories: Category names, sorted (labels index them).
        textures: Texture category of each sample (labels hold the shape category).
        groups_by_space: Class indices of each category, by model label space.
    """

    def __init__(self, images: Any, categories: list[str], textures: list[int], groups: dict[str, Any]) -> None:
        self._images = images
        self.categories = categories
        self.textures = textures
        self.groups_by_space = groups

    def __getattr__(self, name: str) -> Any:
        # ids, labels, info, load, load_uint8: those of the file-backed set.
        return getattr(self._images, name)

    def __len__(self) -> int:
        return len(self.textures)

    def groups(self, label_space: str) -> list[list[int]] | None:
        """Class indices of each category (in ``categories`` order) for a label space, or None."""
        table = self.groups_by_space.get(label_space)
        if table is None:
            # A model trained on the categories themselves needs no table.
            return [[i] for i in range(len(self.categories))] if label_space == "cue-conflict-16" else None
        return [list(table[c]) for c in self.categories]


def _read_groups(root: Path, categories: list[str]) -> dict[str, Any]:
    path = root / "categories.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"cue-conflict: cannot read {path}: {exc}. Expected layout: {CUE_CONFLICT_LAYOUT}") from exc
    for space, table in data.items():
        missing = sorted(set(categories) - set(table))
        if missing:
            raise DataError(f"cue-conflict: {path} gives no classes for {missing} in label space {space!r}")
    return dict(data)


def load_cue_conflict(root: Path | None, preprocessing: Preprocessing) -> CueConflictSet:
    """List the cue-conflict tree; images decode on ``load``.

    Raises:
        DataError: If the tree does not follow the layout.
    """
    from lkadv.datasets._files import FileImageSet, FileSamples

    if root is None:
        raise DataError(f"cue-conflict has no root. Expected layout: {CUE_CONFLICT_LAYOUT}")
    categories = sorted(p.name for p in root.iterdir() if p.is_dir())
    if len(categories) < 2:
        raise DataError(
            f"cue-conflict: {root} holds {len(categories)} category folders. Expected: {CUE_CONFLICT_LAYOUT}"
        )
    index = {c: i for i, c in enumerate(categories)}
    paths, shapes, textures = [], [], []
    for category in categories:
        for file in sorted((root / category).glob("*.png")):
            match = _NAME.match(file.stem)
            if match is None or match.group(1) != category or match.group(2) not in index:
                raise DataError(f"cue-conflict: {file} is not named <shape><i>-<texture><j>.png with known categories")
            paths.append(f"{category}/{file.name}")
            shapes.append(index[category])
            textures.append(index[match.group(2)])
    samples = FileSamples.of_images(root, paths, shapes, info={"images": len(paths)})
    images = FileImageSet(samples, preprocessing, dataset="cue-conflict", version="1")
    return CueConflictSet(images, categories, textures, _read_groups(root, categories))
