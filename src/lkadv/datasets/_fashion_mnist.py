"""Fashion-MNIST: the embedded benchmark.

The 10k test split ships inside the package (MIT, see ``data/fashion_mnist/LICENSE``).
The 60k train split, needed only to retrain the mini zoo, is found in the root
the caller resolved (``[data] fashion-mnist`` or ``$LKADV_DATA_FASHION_MNIST``, through
:func:`lkadv.datasets.find_root`), in Debian's ``dataset-fashion-mnist`` package, or
downloaded (with sha256 checks) when online.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from lkadv.datasets._idx import read_idx
from lkadv.downloads import fetch
from lkadv.errors import DataError

__all__ = ["CLASSES", "load_fashion_mnist"]

CLASSES = (
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)

_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_SHA256 = {
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
}
_DEBIAN = Path("/usr/share/datasets/fashion-mnist")
_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{}"


def _shipped_dir() -> Path:
    return Path(str(resources.files("lkadv.datasets") / "data" / "fashion_mnist"))


def _locate(name: str, download: bool, root: Path | str | None) -> Path:
    # A root the user chose: its files or a clear error, never a silent fallback.
    candidates = [Path(root) / name] if root is not None else [_shipped_dir() / name, _DEBIAN / name]
    for path in candidates:
        if path.is_file():
            return path
    if download:
        return fetch(_URL.format(name), sha256=_SHA256[name])
    raise DataError(
        f"Fashion-MNIST file {name} not found in {', '.join(str(c.parent) for c in candidates)}. "
        'Set [data] fashion-mnist = "PATH" in lkadv.toml or LKADV_DATA_FASHION_MNIST to a folder holding '
        "the IDX .gz files, run `apt-get install dataset-fashion-mnist`, or pass download=True when online."
    )


def load_fashion_mnist(
    split: str = "test", *, root: Path | str | None = None, download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load a Fashion-MNIST split.

    Args:
        split: ``"test"`` (shipped) or ``"train"``.
        root: A folder holding the IDX files (default: the shipped test split, then
            Debian's ``dataset-fashion-mnist``). Settings are resolved by the caller
            (:func:`lkadv.datasets.find_root`); this function reads no environment.
        download: Fetch missing files from the official mirror.

    Returns:
        ``(images, labels)``: uint8 ``[N, 28, 28]`` and int64 ``[N]``.

    Raises:
        DataError: If the split is unknown or its files are missing or corrupt.
    """
    if split not in _FILES:
        raise DataError(f"unknown Fashion-MNIST split {split!r}; use 'train' or 'test'")
    images = read_idx(_locate(_FILES[split][0], download, root))
    labels = read_idx(_locate(_FILES[split][1], download, root)).astype(np.int64)
    if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
        raise DataError(f"Fashion-MNIST {split} split has unexpected shapes {images.shape} / {labels.shape}")
    return images, labels
