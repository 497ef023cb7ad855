"""Samples stored as files (images, or frames of videos), decoded with timm's eval transform.

A :class:`FileImageSet` lists its samples without reading them. Pixels come
from the prepared-data cache when the plan prepared one (see
:mod:`lkadv.datasets._prepared`), else they are decoded on demand, in worker
processes when there are several files to read.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lkadv.errors import DataError
from lkadv.specs import Preprocessing

__all__ = ["DecodeResult", "FileImageSet", "FileSamples", "decode_source", "transform_key"]

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
VIDEO_SUFFIXES = (".mp4",)


@dataclass
class FileSamples:
    """Where each sample of a file-based dataset lives.

    Attributes:
        root: Folder the relative paths start from.
        sources: Relative paths of the files (an image, or a video holding several samples).
        source_of: For each sample, the index of its file in ``sources``.
        frame_of: For each sample, its frame in a video (-1 for a still image).
        ids: Stable sample ids (relative path, ``#frame`` for video frames).
        labels: Labels in the dataset's class space.
        strata: Ints to balance subsets over (default: the labels).
        kind: ``"image"`` or ``"video"``.
        info: Facts about the listing worth recording.
    """

    root: Path
    sources: list[str]
    source_of: np.ndarray
    frame_of: np.ndarray
    ids: list[str]
    labels: np.ndarray
    strata: np.ndarray | None = None
    kind: str = "image"
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_images(
        cls,
        root: Path,
        paths: Sequence[str],
        labels: Sequence[int],
        strata: Sequence[int] | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> FileSamples:
        """One sample per image file; ids are the relative paths."""
        n = len(paths)
        return cls(
            root,
            list(paths),
            np.arange(n, dtype=np.int64),
            np.full(n, -1, dtype=np.int64),
            list(paths),
            np.asarray(labels, dtype=np.int64),
            None if strata is None else np.asarray(strata, dtype=np.int64),
            "image",
            dict(info or {}),
        )


@dataclass
class DecodeResult:
    """What a worker returns for one file: arrays per preprocessing and frame, or an error.

    Attributes:
        source: Index of the file.
        arrays: By preprocessing key, one uint8 ``[C, H, W]`` array per frame.
        error: Why the file could not be read (None when it could).
    """

    source: int
    arrays: dict[str, list[np.ndarray]]
    error: str | None = None


def transform_key() -> str:
    """Versions of the code that turns files into pixels; part of every cache key."""
    import PIL
    import timm
    import torchvision  # type: ignore[import-untyped]

    return f"timm-eval/{timm.__version__}/pillow-{PIL.__version__}/torchvision-{torchvision.__version__}/v1"


@functools.lru_cache(maxsize=32)
def _transform(pre: Preprocessing) -> Any:
    """Timm's own eval transform (resize, centre crop) ending in a uint8 CHW array (no normalization)."""
    from timm.data.transforms_factory import transforms_imagenet_eval

    _, h, w = pre.input_size
    return transforms_imagenet_eval(
        img_size=(h, w),
        crop_pct=pre.crop_pct,
        crop_mode=pre.crop_mode,
        interpolation=pre.interpolation,
        use_prefetcher=True,  # ToNumpy: uint8 CHW, no float conversion
    )


def _apply(image: Any, pre: Preprocessing) -> np.ndarray:
    """One PIL image through a preprocessing, as a uint8 ``[C, H, W]`` array."""
    c, h, w = pre.input_size
    if image.size == (w, h) and pre.crop_pct == 1.0:
        arr = np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)  # stored at the input size: never resampled
    else:
        arr = _transform(pre)(image)
    if arr.shape[0] != c:
        arr = np.repeat(arr.mean(0, keepdims=True).round().astype(np.uint8), c, 0)
    return np.ascontiguousarray(arr)


def decode_source(
    root: str, path: str, kind: str, pres: Sequence[Preprocessing], frames: Sequence[int] | None = None
) -> tuple[dict[str, list[np.ndarray]], str | None]:
    """Decode one file and apply each preprocessing to each wanted frame.

    Returns:
        ``(arrays by preprocessing key, error)``; on any decoding failure the
        arrays are empty and ``error`` says what went wrong.
    """
    from PIL import Image

    full = Path(root) / path
    try:
        if kind == "video":
            from lkadv.datasets._video import read_frames

            raw = read_frames(full)
            wanted = range(len(raw)) if frames is None else frames
            if any(f >= len(raw) for f in wanted):
                return {}, f"{path}: has {len(raw)} frames, fewer than listed"
            images = [Image.fromarray(raw[f]) for f in wanted]
        else:
            with Image.open(full) as im:
                images = [im.convert("RGB")]
        return {p.key(): [_apply(img, p) for img in images] for p in pres}, None
    except Exception as exc:  # any decoder failure is this file's failure, reported by path
        return {}, f"{path}: {type(exc).__name__}: {exc}"


class _Sources(torch.utils.data.Dataset[DecodeResult]):
    """Files to decode, as a map-style dataset for DataLoader worker processes."""

    def __init__(
        self,
        root: Path,
        sources: Sequence[str],
        indices: Sequence[int],
        frames: Sequence[Sequence[int] | None],
        kind: str,
        pres: Sequence[Preprocessing],
    ) -> None:
        self.root, self.sources, self.indices, self.frames = str(root), sources, list(indices), list(frames)
        self.kind, self.pres = kind, list(pres)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> DecodeResult:
        src = self.indices[i]
        arrays, error = decode_source(self.root, self.sources[src], self.kind, self.pres, self.frames[i])
        return DecodeResult(src, arrays, error)


def _identity(item: DecodeResult) -> DecodeResult:
    return item


def iter_decoded(
    samples: FileSamples,
    indices: Sequence[int],
    pres: Sequence[Preprocessing],
    workers: int,
    frames: Sequence[Sequence[int] | None] | None = None,
) -> Iterator[DecodeResult]:
    """Decode files (by source index) in worker processes, in order.

    Args:
        samples: The listing.
        indices: Source indices to decode.
        pres: Preprocessings to apply to every decoded frame.
        workers: Worker processes (0 or a single file: in this process).
        frames: Per source, the frames wanted (None: all).

    Yields:
        One result per source, in the order of ``indices``.
    """
    frames = list(frames) if frames is not None else [None] * len(indices)
    dataset = _Sources(samples.root, samples.sources, indices, frames, samples.kind, pres)
    if workers <= 0 or len(indices) < 2:
        for i in range(len(dataset)):
            yield dataset[i]
        return
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=min(workers, len(indices)),
        collate_fn=_identity,  # type: ignore[arg-type]  # batch_size=None: one item, not a list
        prefetch_factor=4,
        worker_init_fn=functools.partial(_die_with_parent, os.getpid()),
    )
    yield from loader


def _die_with_parent(parent: int, _worker_id: int) -> None:
    """Have the kernel kill a decoding worker when its parent dies (kill -9 included).

    DataLoader workers only notice a dead parent between items, seconds later;
    a killed run must not leave them decoding. Linux only (prctl); elsewhere a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))
    except OSError:
        return
    if os.getppid() != parent:  # the parent died before the call: follow it now
        os._exit(1)


class FileImageSet:
    """Samples on disk under one preprocessing.

    Args:
        samples: The listing.
        preprocessing: Target transform.
        dataset: Dataset name (for cache keys and messages).
        version: Dataset loader version (for cache keys).
        workers: Decoding worker processes.
    """

    def __init__(
        self, samples: FileSamples, preprocessing: Preprocessing, *, dataset: str, version: str, workers: int = 0
    ) -> None:
        self.samples = samples
        self.preprocessing = preprocessing
        self.dataset = dataset
        self.version = version
        self.workers = workers
        self._labels = torch.from_numpy(samples.labels)
        self._info: dict[str, Any] = dict(samples.info)
        self.prepared: Any = None  # a PreparedArray once the plan prepared the data

    @property
    def ids(self) -> Sequence[str]:
        """Stable identifiers, one per sample."""
        return self.samples.ids

    @property
    def labels(self) -> torch.Tensor:
        """Int64 labels."""
        return self._labels

    @property
    def strata(self) -> np.ndarray | None:
        """What subsets are balanced over (None: the labels)."""
        return self.samples.strata

    @property
    def groups(self) -> list[str] | None:
        """For videos, the file of each frame (frames of a video are drawn together)."""
        if self.samples.kind != "video":
            return None
        return [self.samples.sources[int(s)] for s in self.samples.source_of]

    @property
    def info(self) -> Mapping[str, Any]:
        """Facts worth recording with results."""
        return self._info

    def __len__(self) -> int:
        return len(self.samples.ids)

    def load_uint8(self, positions: Sequence[int], pin: bool = False) -> torch.Tensor:
        """Images at the given positions as uint8 ``[N, C, H, W]`` (in pinned memory if ``pin``).

        Raises:
            DataError: If a file cannot be decoded (the run chose ``--on-bad-image fail``,
                or the image was not seen while preparing).
        """
        c, h, w = self.preprocessing.input_size
        out = torch.empty((len(positions), c, h, w), dtype=torch.uint8, pin_memory=pin)
        if self.prepared is not None:
            self.prepared.read_into(positions, out.numpy())
            return out
        self._decode_into(positions, out.numpy())
        return out

    def load(self, positions: Sequence[int]) -> torch.Tensor:
        """Float32 images in [0, 1] at the preprocessing size."""
        return self.load_uint8(positions).float().div_(255.0)

    def _decode_into(self, positions: Sequence[int], out: np.ndarray) -> None:
        by_source: dict[int, list[tuple[int, int]]] = {}
        for row, pos in enumerate(positions):
            by_source.setdefault(int(self.samples.source_of[pos]), []).append((row, int(self.samples.frame_of[pos])))
        sources = list(by_source)
        frames: list[Sequence[int] | None] = [
            None if self.samples.kind != "video" else sorted({f for _, f in by_source[s]}) for s in sources
        ]
        key = self.preprocessing.key()
        slot = {s: i for i, s in enumerate(sources)}
        for result in iter_decoded(self.samples, sources, [self.preprocessing], self.workers, frames):
            if result.error is not None:
                raise DataError(
                    f"dataset {self.dataset!r}: cannot decode {result.error}. Replace the file, or rerun with "
                    "--on-bad-image skip to leave unreadable images out (they are counted in the run's record)."
                )
            wanted = frames[slot[result.source]]
            frame_index = {f: i for i, f in enumerate(wanted)} if wanted is not None else {-1: 0}
            for row, f in by_source[result.source]:
                out[row] = result.arrays[key][frame_index[f]]
