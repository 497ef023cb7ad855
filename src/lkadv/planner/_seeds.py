"""Seeds derived from a base seed and names, never from the clock."""

from __future__ import annotations

import hashlib

__all__ = ["derive_seed"]


def derive_seed(base: int, *parts: object) -> int:
    """A 63-bit seed from a base seed and any parts (stable across runs and machines).

    Args:
        base: The run's base seed.
        *parts: Anything with a stable ``str`` (cell keys, shard numbers...).

    Returns:
        A non-negative int below 2**63.
    """
    text = "\x1f".join([str(base), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") & (2**63 - 1)
