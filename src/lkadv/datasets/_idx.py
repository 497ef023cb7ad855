"""Reader for the IDX format of (Fashion-)MNIST, gzip-compressed or raw."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np

from lkadv.errors import DataError

__all__ = ["read_idx"]

_DTYPES: dict[int, np.dtype[Any] | type] = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file into a numpy array.

    Args:
        path: A ``.gz`` or raw IDX file.

    Returns:
        The array, with the shape stored in the file.

    Raises:
        DataError: If the file is missing, truncated or not IDX.
    """
    if not path.is_file():
        raise DataError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    dtype = np.dtype(_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DataError(f"{path} is truncated or padded: {len(raw)} bytes, expected {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
