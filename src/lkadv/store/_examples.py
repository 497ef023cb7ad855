"""Saved adversarial examples: 8-bit images, content-addressed in the run directory.

An example set is what one unit crafted: the subset indices and ids of its
samples, the adversarial images as uint8 (what an image file would hold), the
true labels and what the model they were crafted on predicted. Its bytes (an
``.npz``) are stored once under ``examples/blobs/<sha256>.npz``; a small
``examples/index/<key>.json`` names the blob for a lookup key (a transfer
craft, or an attack cell's unit). Both are written to a temporary file,
flushed and renamed, blob first, so a kill leaves either the whole set or
nothing a reader would find; reading checks the digest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lkadv.errors import StoreError

__all__ = ["EXAMPLES_DIR", "ExampleSet", "ExampleStore", "cell_examples_key", "quantize_uint8"]

EXAMPLES_DIR = "examples"
_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def quantize_uint8(x_adv: np.ndarray, x: np.ndarray, eps: float) -> np.ndarray:
    """Round adversarial images to 8 bits as an image file stores them, kept inside the L-inf ball.

    Each pixel is rounded to the nearest grey level, then moved to the nearest
    grey level inside ``[x - eps, x + eps]`` (and [0, 255]) if rounding left
    the ball.

    Args:
        x_adv: Adversarial images in [0, 1] (float).
        x: The clean images they were made from.
        eps: The L-inf radius in pixel units.

    Returns:
        uint8 images of ``x_adv``'s shape.

    Raises:
        StoreError: If no grey level lies within ``eps`` of a clean pixel (a clean
            image off the 1/255 grid with eps under half a grey level).
    """
    x64 = np.asarray(x, np.float64)
    # A grey level within float slack of the ball's edge counts as inside (the core's check allows the same).
    slack = 1e-6
    lo = np.maximum(np.ceil((x64 - eps) * 255 - slack), 0)
    hi = np.minimum(np.floor((x64 + eps) * 255 + slack), 255)
    if bool((lo > hi).any()):
        raise StoreError(
            f"no 8-bit image lies within eps {eps:.6g} of the clean images (they are off the 1/255 grid); "
            "use an eps of at least half a grey level (0.5/255)"
        )
    levels = np.clip(np.rint(np.asarray(x_adv, np.float64) * 255), lo, hi)
    return levels.astype(np.uint8)


@dataclass
class ExampleSet:
    """Adversarial examples of one unit.

    Attributes:
        indices: Positions in the run's subset.
        ids: Sample ids.
        images: uint8 NCHW adversarial images.
        labels: True labels (the dataset's label space).
        source_pred: What the model they were crafted on predicts for them (-1: unknown).
        meta: Where they come from: source model, threat id, eps, shard, seed.
    """

    indices: np.ndarray
    ids: list[str]
    images: np.ndarray
    labels: np.ndarray
    source_pred: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def floats(self) -> np.ndarray:
        """The images as float32 in [0, 1]."""
        return self.images.astype(np.float32) / 255.0

    def to_bytes(self) -> bytes:
        """The set as ``.npz`` bytes (what is stored and hashed)."""
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            indices=np.asarray(self.indices, np.int64),
            ids=np.asarray(self.ids, dtype=str),
            images=np.asarray(self.images, np.uint8),
            labels=np.asarray(self.labels, np.int64),
            source_pred=np.asarray(self.source_pred, np.int64),
            meta=np.asarray(json.dumps(self.meta, sort_keys=True, default=str)),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> ExampleSet:
        """Read a set written by :meth:`to_bytes`."""
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                z["indices"],
                [str(v) for v in z["ids"]],
                z["images"],
                z["labels"],
                z["source_pred"],
                json.loads(str(z["meta"])),
            )


def cell_examples_key(cell_key: str, shard: int, *, clean: bool = False) -> str:
    """The store key of an attack unit's saved examples (``clean``: the clean images they start from)."""
    return f"cell-{cell_key}-{shard}" + ("-clean" if clean else "")


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class ExampleStore:
    """The example sets of a run directory.

    Args:
        run_dir: The run directory.
    """

    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir) / EXAMPLES_DIR

    def _index(self, key: str) -> Path:
        if not _KEY.match(key):
            raise StoreError(f"bad example key {key!r}: use letters, digits and _.- only")
        return self.root / "index" / f"{key}.json"

    def blob_path(self, digest: str) -> Path:
        """Where the set with this sha256 lies."""
        return self.root / "blobs" / f"{digest}.npz"

    def put(self, key: str, examples: ExampleSet) -> str:
        """Store a set under ``key`` (blob first, then the index entry); returns its sha256."""
        data = examples.to_bytes()
        digest = hashlib.sha256(data).hexdigest()
        blob = self.blob_path(digest)
        if not blob.is_file():
            _write_atomic(blob, data)
        _write_atomic(self._index(key), json.dumps({"sha256": digest, "n": len(examples.ids)}).encode())
        return digest

    def digest(self, key: str) -> str | None:
        """The sha256 stored under ``key``, or None."""
        path = self._index(key)
        if not path.is_file():
            return None
        try:
            return str(json.loads(path.read_text())["sha256"])
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"{path} is not a readable example index: {exc}") from exc

    def get(self, key: str) -> ExampleSet | None:
        """The set stored under ``key``, or None if there is none."""
        digest = self.digest(key)
        return None if digest is None else self.read(digest)

    def read(self, digest: str) -> ExampleSet:
        """The set with this sha256.

        Raises:
            StoreError: If it is missing or its bytes do not match the digest.
        """
        path = self.blob_path(digest)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"saved examples {path} cannot be read: {exc}") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise StoreError(f"saved examples {path} are corrupt (sha256 mismatch); delete it to craft them again")
        return ExampleSet.from_bytes(data)

    def list_keys(self) -> list[str]:
        """Every index key."""
        index = self.root / "index"
        return sorted(p.stem for p in index.glob("*.json")) if index.is_dir() else []
