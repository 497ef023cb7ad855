"""The prepared-data cache: each image decoded and preprocessed once, then memory-mapped.

One cache entry holds one (dataset, subset, preprocessing): a raw uint8 array
``[N, C, H, W]`` (``data.u8``) and ``index.json`` (its key material, the sample
ids in row order, the shape, and the ids found unreadable). Its folder name
carries a sha256 of the key material: dataset, loader version, a fingerprint of
the source files (path, size, mtime), the subset digest, the preprocessing key
and the versions of the decoding code. A changed source or transform gives
another key, so a stale entry is never read.

Writes are atomic: an entry is written into ``.tmp-<name>-<pid>`` beside its
final place, both files are fsynced, and the folder is renamed into place
(then the parent is fsynced). A crash at any point leaves at most a ``.tmp-``
folder, which no reader opens and the next preparation removes once its
process is gone. Opening validates the index against the expected key, the
ids and the file size, and rejects (and deletes) anything that does not match.

One decoding pass fills every missing entry of a run at once: each file is
decoded once, in worker processes, and every preprocessing of the run is
applied to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lkadv.datasets._files import FileImageSet, iter_decoded, transform_key
from lkadv.errors import DataError

__all__ = ["CACHE_FORMAT", "PreparedArray", "PrepareReport", "cache_material", "prepare_imagesets"]

CACHE_FORMAT = 1
_log = logging.getLogger("lkadv.datasets")
_SPARE_BYTES = 1 << 30  # leave 1 GiB free on the cache's disk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def source_fingerprint(imageset: FileImageSet, positions: Sequence[int]) -> str:
    """sha256 over (path, size, mtime) of the files behind ``positions``."""
    samples = imageset.samples
    h = hashlib.sha256()
    for src in sorted({int(samples.source_of[p]) for p in positions}):
        rel = samples.sources[src]
        st = (samples.root / rel).stat()
        h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cache_material(imageset: FileImageSet, subset_digest: str, fingerprint: str) -> dict[str, Any]:
    """Everything a cache entry's identity depends on."""
    return {
        "format": CACHE_FORMAT,
        "dataset": imageset.dataset,
        "version": imageset.version,
        "fingerprint": fingerprint,
        "subset": subset_digest,
        "preprocessing": imageset.preprocessing.key(),
        "transform": transform_key(),
    }


def _entry_name(material: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]
    return f"{material['preprocessing']}-{digest}"


@dataclass
class PreparedArray:
    """An opened, validated cache entry.

    Attributes:
        path: Its folder.
        rows: Row of each dataset position.
        data: The memory-mapped ``[N, C, H, W]`` uint8 array.
        bad: Sample ids found unreadable when it was written.
    """

    path: Path
    rows: dict[int, int]
    data: np.ndarray
    bad: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls, path: Path, material: Mapping[str, Any], ids: Sequence[str], positions: Sequence[int]
    ) -> PreparedArray | None:
        """Open an entry if it exists and matches; a mismatching one is deleted and None returned."""
        if not path.is_dir():
            return None
        try:
            index = json.loads((path / "index.json").read_text())
            shape = tuple(int(v) for v in index["shape"])
            ok = (
                index.get("complete") is True
                and index.get("material") == dict(material)
                and index.get("ids") == list(ids)
                and shape[0] == len(ids)
                and (path / "data.u8").stat().st_size == int(np.prod(shape))
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            ok, shape = False, ()
            _log.debug("cache entry %s unreadable: %s", path, exc)
        if not ok:
            _log.warning("prepared-data cache entry %s does not match its key; removing it", path)
            shutil.rmtree(path, ignore_errors=True)
            return None
        data = np.memmap(path / "data.u8", dtype=np.uint8, mode="r", shape=shape)
        return cls(path, {int(p): i for i, p in enumerate(positions)}, data, list(index.get("bad", [])))

    def read_into(self, positions: Sequence[int], out: np.ndarray) -> None:
        """Copy the rows of ``positions`` into ``out`` (one slice when they are consecutive)."""
        rows = [self.rows[int(p)] for p in positions]
        if rows and rows[-1] - rows[0] == len(rows) - 1 and rows == list(range(rows[0], rows[-1] + 1)):
            out[...] = self.data[rows[0] : rows[-1] + 1]
        else:
            out[...] = self.data[np.asarray(rows, dtype=np.int64)]


@dataclass
class PrepareReport:
    """What preparation did, recorded with the run.

    Attributes:
        bad_positions: Dataset positions whose files could not be decoded.
        bad_ids: Their ids.
        entries: Per preprocessing key: ``reused``, ``written``, ``streaming`` (not cached) and why.
        seconds: Time spent decoding.
    """

    bad_positions: list[int] = field(default_factory=list)
    bad_ids: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "bad_images": len(self.bad_ids),
            "bad_ids": self.bad_ids[:100],
            "prepared": dict(self.entries),
            "prepare_seconds": round(self.seconds, 3),
        }


def _remove_stale_tmp(folder: Path) -> None:
    """Delete ``.tmp-`` folders left by processes that no longer run."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if not child.name.startswith(".tmp-"):
            continue
        try:
            pid = int(child.name.rsplit("-", 1)[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(child, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def _free_bytes(folder: Path) -> int:
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


class _Writer:
    """One entry being written in its temporary folder."""

    def __init__(self, final: Path, material: Mapping[str, Any], ids: Sequence[str], shape: tuple[int, ...]) -> None:
        self.final, self.material, self.ids, self.shape = final, dict(material), list(ids), shape
        self.tmp = final.parent / f".tmp-{final.name}-{os.getpid()}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self.array = np.memmap(self.tmp / "data.u8", dtype=np.uint8, mode="w+", shape=shape)

    def commit(self, bad: Sequence[str]) -> None:
        """Flush, fsync, write the index, and rename the folder into place."""
        self.array.flush()
        del self.array
        with open(self.tmp / "data.u8", "rb+") as fh:
            os.fsync(fh.fileno())
        index = {"complete": True, "material": self.material, "ids": self.ids, "shape": list(self.shape)}
        index["bad"] = list(bad)
        with open(self.tmp / "index.json", "w") as fh:
            json.dump(index, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(self.tmp)
        try:
            os.rename(self.tmp, self.final)
        except OSError:  # another process finished the same entry first: keep theirs
            shutil.rmtree(self.tmp, ignore_errors=True)
        _fsync_dir(self.final.parent)

    def abort(self) -> None:
        """Remove the temporary folder."""
        with contextlib.suppress(AttributeError):
            del self.array
        shutil.rmtree(self.tmp, ignore_errors=True)


def prepare_imagesets(
    imagesets: Sequence[FileImageSet],
    positions: Sequence[int],
    subset_digest: str,
    cache_dir: Path | None,
    *,
    on_bad_image: str = "fail",
    workers: int = 0,
) -> PrepareReport:
    """Make every imageset read the subset from a validated cache entry, decoding each file once.

    Entries that exist and validate are opened; the missing ones are written in
    one decoding pass. Without a cache (``cache_dir`` None, or too little disk
    space) the pass runs only when ``on_bad_image`` is ``skip``, to find the
    unreadable files before anything is scored; otherwise images are decoded
    when loaded.

    Args:
        imagesets: The dataset under each preprocessing of the run (same samples).
        positions: Subset positions, ascending.
        subset_digest: The subset's digest.
        cache_dir: Cache folder, or None for no cache.
        on_bad_image: ``fail`` or ``skip``.
        workers: Decoding worker processes.

    Returns:
        The report (unreadable samples and what happened to each entry).

    Raises:
        DataError: With ``fail``, naming the unreadable files and the option that skips them.
    """
    report = PrepareReport()
    if not imagesets or not positions:
        return report
    first = imagesets[0]
    samples = first.samples
    ids = [samples.ids[p] for p in positions]
    entries = _Entries(ids, positions)
    if cache_dir is not None:
        entries.open_or_plan(imagesets, subset_digest, cache_dir / first.dataset, report)
    else:
        for imageset in imagesets:
            report.entries[imageset.preprocessing.key()] = "streaming: cache off"
    if entries.pending or (on_bad_image == "skip" and entries.bad_known is None):
        t0 = time.perf_counter()
        bad_ids = _decode_pass(first, positions, entries, on_bad_image, workers)
        report.seconds = time.perf_counter() - t0
        entries.open_written(report)
        entries.add_bad(bad_ids)
    bad = sorted(entries.bad_known or set())
    if bad and on_bad_image == "fail":
        raise DataError(
            f"dataset {first.dataset!r}: {len(bad)} file(s) of this subset cannot be decoded (recorded when the "
            f"cache was prepared), e.g. {bad[:5]}. Replace them, or rerun with --on-bad-image skip."
        )
    index = {s: i for i, s in enumerate(samples.ids)}
    report.bad_ids = bad
    report.bad_positions = sorted(index[b] for b in bad)
    return report


class _Entries:
    """The cache entries of one subset: those opened, and those to write in the decoding pass."""

    def __init__(self, ids: list[str], positions: Sequence[int]) -> None:
        self.ids, self.positions = ids, positions
        self.writers: dict[str, _Writer] = {}
        self.pending: list[FileImageSet] = []
        self.bad_known: set[str] | None = None  # unreadable ids recorded in the entries opened

    def open_written(self, report: PrepareReport) -> None:
        """Point each pending imageset at the entry the decoding pass wrote for it."""
        for imageset in self.pending:
            key = imageset.preprocessing.key()
            writer = self.writers[key]
            imageset.prepared = PreparedArray.open(writer.final, writer.material, self.ids, self.positions)
            report.entries[key] = f"written {writer.final}"

    def add_bad(self, bad: Iterable[str]) -> None:
        self.bad_known = set(bad) if self.bad_known is None else self.bad_known | set(bad)

    def open_or_plan(
        self, imagesets: Sequence[FileImageSet], subset_digest: str, folder: Path, report: PrepareReport
    ) -> None:
        """Open each valid entry; plan a writer for each missing one that fits on the disk."""
        fingerprint = source_fingerprint(imagesets[0], self.positions)
        _remove_stale_tmp(folder)
        for imageset in imagesets:
            key = imageset.preprocessing.key()
            material = cache_material(imageset, subset_digest, fingerprint)
            final = folder / _entry_name(material)
            opened = PreparedArray.open(final, material, self.ids, self.positions)
            if opened is not None:
                imageset.prepared = opened
                report.entries[key] = f"reused {final}"
                self.add_bad(opened.bad)
                continue
            c, h, w = imageset.preprocessing.input_size
            need = len(self.ids) * c * h * w
            if need + _SPARE_BYTES > _free_bytes(folder):
                report.entries[key] = f"streaming: {need / 2**30:.1f} GiB would not fit in {folder}"
                continue
            self.writers[key] = _Writer(final, material, self.ids, (len(self.ids), c, h, w))
            self.pending.append(imageset)


def _decode_pass(
    first: FileImageSet, positions: Sequence[int], entries: _Entries, on_bad_image: str, workers: int
) -> list[str]:
    """Decode every source file once, filling the pending entries; returns the unreadable ids.

    Raises:
        DataError: With ``fail``, naming the unreadable files and the option that skips them.
    """
    samples = first.samples
    row_of = {int(p): i for i, p in enumerate(positions)}
    by_source: dict[int, list[int]] = {}
    for p in positions:
        by_source.setdefault(int(samples.source_of[p]), []).append(int(p))
    sources = list(by_source)
    frames: list[Sequence[int] | None] = [
        None if samples.kind != "video" else sorted(int(samples.frame_of[p]) for p in by_source[s]) for s in sources
    ]
    pres = [im.preprocessing for im in entries.pending]
    _log.info("preparing %s: %d files, %d preprocessing(s)", first.dataset, len(sources), len(pres))
    bad_sources: dict[int, str] = {}
    try:
        slot = {s: i for i, s in enumerate(sources)}
        for result in iter_decoded(samples, sources, pres, workers, frames):
            if result.error is not None:
                bad_sources[result.source] = result.error
                continue
            wanted = frames[slot[result.source]]
            frame_index = {f: i for i, f in enumerate(wanted)} if wanted is not None else {-1: 0}
            for p in by_source[result.source]:
                f = int(samples.frame_of[p])
                for key, writer in entries.writers.items():
                    writer.array[row_of[p]] = result.arrays[key][frame_index[f]]
        if bad_sources and on_bad_image == "fail":
            listing = "; ".join(list(bad_sources.values())[:10])
            raise DataError(
                f"dataset {first.dataset!r}: {len(bad_sources)} file(s) cannot be decoded: {listing}. "
                "Replace them, or rerun with --on-bad-image skip (or LKADV_ON_BAD_IMAGE=skip) to leave them "
                "out; the count is recorded with the run."
            )
        bad_ids = [samples.ids[p] for s in bad_sources for p in by_source[s]]
        for writer in entries.writers.values():
            writer.commit(bad_ids)
    except BaseException:
        for writer in entries.writers.values():
            writer.abort()
        raise
    return bad_ids
