"""The README smoke runner (.ci/readme_smoke.py) runs marked blocks only, and fails when one fails."""

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "readme_smoke.py"


def smoke(tmp_path, text):
    readme = tmp_path / "README.md"
    readme.write_text(text)
    return subprocess.run([sys.executable, str(SCRIPT), str(readme)], capture_output=True, text=True)


def test_marked_blocks_run_and_a_failing_command_fails_the_run(tmp_path):
    marker = tmp_path / "ran"
    ok = smoke(tmp_path, f"```bash smoke\ntouch {marker}\n```\n\n```bash\nfalse\n```\n")
    assert ok.returncode == 0 and marker.exists(), ok.stdout + ok.stderr
    bad = smoke(tmp_path, "text\n\n```bash smoke\ntrue\nfalse\necho never\n```\n")
    assert bad.returncode == 1
    assert "README.md:3: FAILED (exit 1)" in bad.stdout and "\nnever\n" not in bad.stdout


def test_a_readme_without_smoke_blocks_is_an_error(tmp_path):
    res = smoke(tmp_path, "```bash\nlkadv list models\n```\n")
    assert res.returncode == 2 and "no ```bash smoke``` block" in res.stderr
