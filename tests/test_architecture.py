"""The architecture's contracts (``[tool.importlinter]`` in pyproject.toml) hold, and they can fail.

The contracts run as ``lint-imports`` in the README's test command and in ``tox -e lint``.
Here the same contracts run on a copy of the package with one violation added at a
time: a lower layer importing a higher one, and a module importing another package's
private module. Each must break the contract it breaks, and only that one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")

pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is not installed (the test extra has it)")


def _config(tmp: Path) -> Path:
    """The project's contracts, on the lkadv package alone (the plugin packages are not copied)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = [c for c in tool["contracts"] if c["id"] in ("layers", "private")]
    lines = ["[importlinter]", "root_packages =", "    lkadv", "exclude_type_checking_imports = True", ""]
    for c in contracts:
        lines += [f"[importlinter:contract:{c['id']}]", f"name = {c['name']}", f"type = {c['type']}"]
        if "layers" in c:
            lines += ["layers =", *(f"    {layer}" for layer in c["layers"])]
        lines.append("")
    path = tmp / ".importlinter"
    path.write_text("\n".join(lines))
    return path


def _lint(tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tmp / "src")}
    assert LINT is not None
    return subprocess.run(
        [LINT, "--no-cache", str(_config(tmp))], cwd=tmp, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("arch")
    shutil.copytree(ROOT / "src" / "lkadv", tmp / "src" / "lkadv", ignore=shutil.ignore_patterns("__pycache__", "data"))
    return tmp


def _with_line(copy: Path, module: str, line: str) -> Path:
    path = copy / "src" / module
    original = path.read_text()
    path.write_text(original + f"\n{line}  # added by the test\n")
    return path


def test_the_package_keeps_its_contracts(copy: Path) -> None:
    result = _lint(copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("lkadv/types.py", "from lkadv.cli import main", "layered"),
        ("lkadv/engine/_check.py", "from lkadv.attacks import PGD", "layered"),
        ("lkadv/attacks/_fgsm.py", "from lkadv.engine._norms import project", "private module"),
    ],
)
def test_a_violation_breaks_its_contract(copy: Path, module: str, line: str, broken: str) -> None:
    path = _with_line(copy, module, line)
    original = path.read_text().replace(f"\n{line}  # added by the test\n", "")
    try:
        result = _lint(copy)
    finally:
        path.write_text(original)
    assert result.returncode != 0, result.stdout
    assert "1 broken" in result.stdout, result.stdout
    broken_line = next(ln for ln in result.stdout.splitlines() if ln.endswith("BROKEN"))
    assert broken in broken_line, result.stdout


def test_every_package_has_its_layer() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in tool["contracts"] if c["id"] == "layers")["layers"]
    listed = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {f"lkadv.{p.parent.name}" for p in (ROOT / "src" / "lkadv").glob("*/__init__.py")}
    packages |= {"lkadv.types", "lkadv.errors"}  # the two public foundation modules
    assert packages == listed, f"unlayered: {sorted(packages - listed)}; gone: {sorted(listed - packages)}"


def test_no_function_is_longer_than_sixty_lines() -> None:
    import ast

    long = []
    for path in sorted((ROOT / "src" / "lkadv").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 60:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert not long, "split these functions (docstring included, at most 60 lines):\n" + "\n".join(long)
