"""Folder layouts of the ImageNet benchmarks: listing samples and checking the tree.

Every check fails with a :class:`~lkadv.errors.DataError` that names the
problem, the expected layout and the setting that points at the root. Nothing
is decoded here: corrupt files are found when the data is prepared.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lkadv.config import DATA_ROOT_VARIABLE
from lkadv.datasets._files import IMAGE_SUFFIXES, VIDEO_SUFFIXES, FileSamples
from lkadv.datasets.imagenet._labels import IN9_CLASSES, imagenet_synsets, subset_synsets
from lkadv.datasets.imagenet._names import C_CORRUPTIONS, IN9_VARIANTS, P_PERTURBATIONS, p_folder_parts
from lkadv.errors import DataError

__all__ = [
    "Where",
    "list_class_tree",
    "list_imagenet_9",
    "list_imagenet_c",
    "list_imagenet_o",
    "list_imagenet_p",
    "list_imagenet_v2",
    "list_val_like",
]


@dataclass(frozen=True)
class Where:
    """What error messages say about a dataset: its name, layout and the settings naming its root."""

    name: str
    layout: str
    env_var: str
    root_folder: str

    def error(self, root: Path, problem: str) -> DataError:
        """A DataError naming the problem, the expected layout and the settings to change."""
        return DataError(
            f"dataset {self.name!r} at {root}: {problem}. Expected layout: {self.layout}. "
            f'Point {self.env_var} (or [data] {self.name} = "PATH" in lkadv.toml, or {DATA_ROOT_VARIABLE} with the '
            f"folder {self.root_folder!r} under it) at the right folder."
        )


def _subdirs(folder: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))


def _files(folder: Path, suffixes: Sequence[str]) -> list[str]:
    return sorted(
        e.name
        for e in os.scandir(folder)
        if e.is_file() and not e.name.startswith(".") and e.name.lower().endswith(tuple(suffixes))
    )


def list_class_tree(
    root: Path,
    where: Where,
    classes: Sequence[str],
    *,
    prefix: str = "",
    suffixes: Sequence[str] = IMAGE_SUFFIXES,
    require_all: bool = True,
) -> tuple[list[str], list[int]]:
    """Files of a ``<class>/<file>`` tree, labelled by the class's position in ``classes``.

    Args:
        root: Folder holding the class folders.
        where: The dataset, for error messages.
        classes: Expected class folder names, in label order.
        prefix: Prefix of the returned relative paths (the path from the dataset root to ``root``).
        suffixes: File suffixes that count.
        require_all: Every class must have its folder (else only the present ones).

    Returns:
        ``(relative paths, labels)``.

    Raises:
        DataError: On an unknown folder, a missing class folder or an empty one.
    """
    if not root.is_dir():
        raise where.error(root, f"{root} is not a folder")
    index = {c: i for i, c in enumerate(classes)}
    present = _subdirs(root)
    unknown = [d for d in present if d not in index]
    if unknown:
        raise where.error(root, f"{len(unknown)} folder(s) are not class folders of this dataset, e.g. {unknown[:3]}")
    if not present:
        n_files = len(_files(root, suffixes))
        hint = f" but {n_files} image file(s): is the root a class folder?" if n_files else ""
        raise where.error(root, f"no class folders{hint}")
    missing = [c for c in classes if c not in set(present)]
    if require_all and missing:
        raise where.error(root, f"{len(missing)} class folder(s) are missing, e.g. {missing[:3]}")
    paths: list[str] = []
    labels: list[int] = []
    for c in present:
        names = _files(root / c, suffixes)
        if not names:
            raise where.error(root, f"class folder {prefix}{c} holds no {'/'.join(suffixes)} files")
        paths += [f"{prefix}{c}/{n}" for n in names]
        labels += [index[c]] * len(names)
    return paths, labels


def _descend(root: Path, where: Where, child: str, marker: Sequence[str]) -> tuple[Path, str]:
    """Use ``root/child`` when it exists (``val/``, ``sketch/``), else the root itself if it holds class folders."""
    if not root.is_dir():
        raise where.error(root, "the root is not a folder")
    if (root / child).is_dir():
        return root / child, f"{child}/"
    present = set(_subdirs(root))
    if present & set(marker):
        return root, ""
    raise where.error(root, f"neither a {child}/ folder nor class folders found (it holds {sorted(present)[:5]})")


def list_val_like(root: Path, where: Where, child: str) -> FileSamples:
    """ImageNet val, ImageNet-Sketch, Stylized-ImageNet: ``[<child>/]<wnid>/<image>``, 1000 classes."""
    synsets = imagenet_synsets()
    folder, prefix = _descend(root, where, child, synsets)
    paths, labels = list_class_tree(folder, where, synsets, prefix=prefix)
    return FileSamples.of_images(root, paths, labels, info={"images": len(paths)})


def list_imagenet_v2(root: Path, where: Where) -> FileSamples:
    """ImageNet-V2: ``<0..999>/<hash>.jpeg`` (class-index folders), or a root holding one ``imagenetv2-*`` folder."""
    if not root.is_dir():
        raise where.error(root, "the root is not a folder")
    folder, prefix = root, ""
    variants = [d for d in _subdirs(root) if d.startswith("imagenetv2-")]
    if len(variants) == 1:
        folder, prefix = root / variants[0], f"{variants[0]}/"
    elif len(variants) > 1:
        raise where.error(root, f"it holds several variants {variants}; point the root at one of them")
    classes = [str(i) for i in range(1000)]
    paths, labels = list_class_tree(folder, where, classes, prefix=prefix)
    return FileSamples.of_images(root, paths, labels, info={"images": len(paths), "variant": prefix.rstrip("/")})


def list_imagenet_c(root: Path, where: Where) -> FileSamples:
    """ImageNet-C: ``<corruption>/<1..5>/<wnid>/<image>``; every corruption present must be complete."""
    if not root.is_dir():
        raise where.error(root, "the root is not a folder")
    synsets = imagenet_synsets()
    present = _subdirs(root)
    unknown = [d for d in present if d not in C_CORRUPTIONS]
    if unknown:
        raise where.error(root, f"unknown corruption folder(s) {unknown[:3]}; known: {', '.join(C_CORRUPTIONS)}")
    if not present:
        raise where.error(root, "no corruption folders")
    paths: list[str] = []
    labels: list[int] = []
    strata: list[int] = []
    for corruption in present:
        ci = C_CORRUPTIONS.index(corruption)
        sevs = _subdirs(root / corruption)
        if sevs != ["1", "2", "3", "4", "5"]:
            raise where.error(root, f"{corruption}/ must hold the severity folders 1 to 5, it holds {sevs}")
        for sev in sevs:
            p, lab = list_class_tree(root / corruption / sev, where, synsets, prefix=f"{corruption}/{sev}/")
            paths += p
            labels += lab
            base = (ci * 5 + int(sev) - 1) * 1000
            strata += [base + v for v in lab]
    info = {"images": len(paths), "corruptions": present}
    return FileSamples.of_images(root, paths, labels, strata, info)


def list_imagenet_o(root: Path, where: Where, val_root: Path | None, val_where: Where) -> FileSamples:
    """ImageNet-O (``<wnid>/<image>``, wnids of the 200 ImageNet-A classes) plus ImageNet val of those wnids.

    Ids start with ``imagenet-o/`` (out-of-distribution, the positive class of
    the AUPR) or ``imagenet-val/`` (in-distribution).
    """
    synsets = subset_synsets("a")
    o_paths, o_labels = list_class_tree(root, where, synsets, require_all=False)
    if val_root is None:
        raise where.error(
            root,
            "ImageNet-O is scored against the ImageNet val images of its 200 classes, and no ImageNet root is "
            f"configured; set {val_where.env_var} (or [data] imagenet, "
            f"or {DATA_ROOT_VARIABLE}/{val_where.root_folder})",
        )
    folder, prefix = _descend(val_root, val_where, "val", imagenet_synsets())
    v_paths, v_labels = list_class_tree(folder, val_where, imagenet_synsets(), prefix=prefix)
    keep = set(synsets)
    all_syn = imagenet_synsets()
    val = [(p, synsets.index(all_syn[lab])) for p, lab in zip(v_paths, v_labels, strict=True) if all_syn[lab] in keep]
    n_o = len(o_paths)
    sources = [str(root / p) for p in o_paths] + [str(val_root / p) for p, _ in val]
    ids = [f"imagenet-o/{p}" for p in o_paths] + [f"imagenet-val/{p}" for p, _ in val]
    labels = o_labels + [lab for _, lab in val]
    strata = [200 + v for v in o_labels] + [lab for _, lab in val]
    n = len(ids)
    return FileSamples(
        Path("/"),
        sources,
        np.arange(n, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        ids,
        np.asarray(labels, dtype=np.int64),
        np.asarray(strata, dtype=np.int64),
        "image",
        {"images": n, "imagenet_o": n_o, "imagenet_val": n - n_o, "val_root": str(val_root)},
    )


def list_imagenet_9(root: Path, where: Where) -> FileSamples:
    """ImageNet-9 (backgrounds challenge): ``<variant>/val/<NN_class>/<image>`` for Original, Mixed-Same, Mixed-Rand."""
    if not root.is_dir():
        raise where.error(root, "the root is not a folder")
    missing = [v for v in IN9_VARIANTS if not (root / v / "val").is_dir()]
    if missing:
        raise where.error(root, f"missing variant folder(s) {[f'{v}/val' for v in missing]}")
    expected = [f"{i:02d}_{name}" for i, name in enumerate(IN9_CLASSES)]
    paths: list[str] = []
    labels: list[int] = []
    strata: list[int] = []
    for vi, variant in enumerate(IN9_VARIANTS):
        folder = root / variant / "val"
        present = _subdirs(folder)
        by_number = {}
        for d in present:
            m = re.match(r"^(\d\d)_", d)
            if not m or int(m[1]) > 8:
                raise where.error(root, f"{variant}/val/{d} is not a class folder (expected {expected})")
            by_number[int(m[1])] = d
        lost = [expected[i] for i in range(9) if i not in by_number]
        if lost:
            raise where.error(root, f"{variant}/val lacks class folder(s) {lost}")
        names = [by_number[i] for i in range(9)]
        p, lab = list_class_tree(folder, where, names, prefix=f"{variant}/val/")
        paths += p
        labels += lab
        strata += [vi * 9 + v for v in lab]
    return FileSamples.of_images(root, paths, labels, strata, {"images": len(paths), "variants": list(IN9_VARIANTS)})


def _video_frames(root: Path, rel: str, where: Where, on_bad_image: str) -> int:
    """Frames of a video; 0 for an unreadable one under ``skip`` (else it stops the listing)."""
    from lkadv.datasets._video import count_frames

    try:
        n = count_frames(root / rel)
    except Exception as exc:  # an unreadable video is reported like a corrupt image
        n, problem = 0, f"{type(exc).__name__}: {exc}"
    else:
        problem = "no frames"
    if n >= 2:
        return n
    if on_bad_image == "skip":
        return 0
    raise where.error(root, f"video {rel} cannot be read ({problem}); replace it, or rerun with --on-bad-image skip")


def list_imagenet_p(root: Path, where: Where, on_bad_image: str = "fail") -> FileSamples:
    """ImageNet-P: ``<perturbation>[_<difficulty>]/<wnid>/<video>.mp4``; one sample per frame.

    A video whose frames cannot be counted stops the listing, or with
    ``on_bad_image="skip"`` is left out and counted (``info["bad_videos"]``).
    """
    if not root.is_dir():
        raise where.error(root, "the root is not a folder")
    synsets = imagenet_synsets()
    present = _subdirs(root)
    unknown = [d for d in present if p_folder_parts(d)[0] not in P_PERTURBATIONS]
    if unknown:
        raise where.error(root, f"unknown perturbation folder(s) {unknown[:3]}; known: {', '.join(P_PERTURBATIONS)}")
    if not present:
        raise where.error(root, "no perturbation folders")
    sources: list[str] = []
    source_of: list[int] = []
    frame_of: list[int] = []
    ids: list[str] = []
    labels: list[int] = []
    strata: list[int] = []
    bad: list[str] = []
    for fi, folder in enumerate(present):
        videos, vlabels = list_class_tree(
            root / folder, where, synsets, prefix=f"{folder}/", suffixes=VIDEO_SUFFIXES, require_all=False
        )
        for rel, label in zip(videos, vlabels, strict=True):
            n = _video_frames(root, rel, where, on_bad_image)
            if n == 0:
                bad.append(rel)
                continue
            src = len(sources)
            sources.append(rel)
            for f in range(n):
                source_of.append(src)
                frame_of.append(f)
                ids.append(f"{rel}#{f:02d}")
                labels.append(label)
                strata.append(fi * 1000 + label)
    return FileSamples(
        root,
        sources,
        np.asarray(source_of, dtype=np.int64),
        np.asarray(frame_of, dtype=np.int64),
        ids,
        np.asarray(labels, dtype=np.int64),
        np.asarray(strata, dtype=np.int64),
        "video",
        {
            "videos": len(sources),
            "frames": len(ids),
            "perturbations": present,
            "bad_videos": len(bad),
            "bad_video_ids": bad[:100],
        },
    )
