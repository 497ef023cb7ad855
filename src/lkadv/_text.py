"""Outside text made printable: control characters shown, not acted upon (one owner for the rule)."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["printable"]

# C0 and C1 control characters but newline: ESC starts ANSI sequences, CR rewrites lines.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(value: Any) -> str:
    """``str(value)`` with control characters shown as escapes (ESC as a backslash-x1b) instead of acted upon."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
