"""Run the commands of README.md's smoke-tested code blocks, so the README cannot rot.

A block takes part when its info string carries the word ``smoke``::

    ```bash smoke
    lkadv list models
    ```

(GitHub renders it as a plain bash block.) Each block runs as one bash script
with ``set -euo pipefail`` from the repository root, so a command that fails
fails the block. Usage: ``python .ci/readme_smoke.py [README.md]``; ``tox -e docs``
runs it. Exit status 1 if any block fails, 2 if the file has no smoke block.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^(?P<fence>`{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)\s*$", re.MULTILINE | re.DOTALL)


def smoke_blocks(text: str) -> list[tuple[int, str, str]]:
    """``(line number, language, script)`` of every block whose info string has the word ``smoke``."""
    return [
        (text.count("\n", 0, m.start()) + 1, m.group("info").split()[0], m.group("body"))
        for m in FENCE.finditer(text)
        if "smoke" in m.group("info").split()
    ]


def _command(language: str, script: str) -> list[str]:
    """A ``python`` block runs in this interpreter; any other block runs as a bash script."""
    if language == "python":
        return [sys.executable, "-c", script]
    return ["bash", "-euo", "pipefail", "-c", script]


def main(path: Path) -> int:
    """Run every smoke block of ``path``; return the exit status."""
    blocks = smoke_blocks(path.read_text())
    if not blocks:
        print(f"{path}: no ```bash smoke``` block to run", file=sys.stderr)
        return 2
    failed = 0
    for line, info, script in blocks:
        print(f"--- {path.name}:{line}\n{script.rstrip()}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.run(_command(info, script), cwd=ROOT).returncode
        status = "ok" if rc == 0 else f"FAILED (exit {rc})"
        print(f"--- {path.name}:{line}: {status} in {time.perf_counter() - t0:.1f}s", flush=True)
        failed += rc != 0
    print(f"README smoke: {len(blocks) - failed} of {len(blocks)} blocks ran clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "README.md"))
