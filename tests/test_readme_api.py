"""The README's Python API block runs as written and gives DataFrames."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_python_api_block_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    section = text[text.index("### Python API") :]
    block = re.search(r"```python smoke\n(.*?)```", section, re.DOTALL)
    assert block is not None, "the Python API section lost its smoke block"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(block.group(1), "README.md:python-api", "exec"), namespace)
    import pandas as pd

    assert isinstance(namespace["table"], pd.DataFrame) and len(namespace["table"]) == 2 * 3
    assert isinstance(namespace["samples"], pd.DataFrame)
    assert "fm-vit" in capsys.readouterr().out
