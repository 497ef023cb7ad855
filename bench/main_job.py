"""Time the main job, ``lkadv run --models all --attacks pgd``, twice in a fresh run directory.

The first run computes everything; the second must find every unit in the
ledger and compute nothing. Prints both wall times (the whole command, Python
start-up and imports included), the run's own time as it reports it, and the
ratio second/first.

    python bench/main_job.py [extra lkadv run options...]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(run_dir: Path, extra: list[str]) -> tuple[float, float, str]:
    cmd = [
        sys.executable,
        "-m",
        "lkadv",
        "run",
        "--models",
        "all",
        "--attacks",
        "pgd",
        "--run-dir",
        str(run_dir),
        *extra,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"lkadv run failed ({proc.returncode}):\n{proc.stderr}")
    match = re.search(r"units computed, \d+ reused, ([\d.]+)s", proc.stderr)
    internal = float(match.group(1)) if match else float("nan")
    return wall, internal, proc.stdout


def main() -> None:
    extra = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="lkadv-bench-") as tmp:
        run_dir = Path(tmp) / "run"
        wall1, run1, table = _run(run_dir, extra)
        wall2, run2, _ = _run(run_dir, extra)
    print(table)
    print(f"first run:  {wall1:7.1f} s wall ({run1:.1f} s inside the run)")
    print(f"second run: {wall2:7.1f} s wall ({run2:.1f} s inside the run)")
    print(f"second / first: {wall2 / wall1:.3f} (wall), {run2 / run1:.3f} (inside the run)")
    print(
        f"acceptance: first run <= 120 s: {'yes' if wall1 <= 120 else 'NO'}; "
        f"second < 10% of first: {'yes' if wall2 < 0.1 * wall1 else 'NO'}"
    )


if __name__ == "__main__":
    main()
