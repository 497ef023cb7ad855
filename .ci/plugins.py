"""Install every plugin package under plugins/ into this environment and run its tests.

Used by ``tox -e plugins``; new packages are found without editing anything.
All packages are installed before any test runs, so each plugin's tests also
see the others beside it, as users will. Usage: ``python .ci/plugins.py [NAME...]``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(names: list[str]) -> int:
    """Install, then test, each plugin package; return the number of failures."""
    packages = sorted(p.parent for p in (ROOT / "plugins").glob("*/pyproject.toml"))
    if names:
        packages = [p for p in packages if p.name in names]
    if not packages:
        print(f"no plugin packages under {ROOT / 'plugins'} match {names or 'anything'}", file=sys.stderr)
        return 1
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *(str(p) for p in packages)], check=True)
    failed = []
    for package in packages:
        print(f"--- {package.name}", flush=True)
        if not (package / "tests").is_dir():
            print(f"{package.name}: no tests/ folder", flush=True)
            failed.append(package.name)
            continue
        # Run from the package folder: its own pytest settings apply, and the test
        # modules import the installed package, not the source tree.
        rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=package)
        if rc.returncode != 0:
            failed.append(package.name)
    ok = len(packages) - len(failed)
    print(f"plugin packages: {ok} of {len(packages)} green" + (f"; failing: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
