"""``--save-examples N`` feeds the HTML report's gallery: the stored 8-bit pairs, shown as they were saved."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from lkadv.cli import main
from lkadv.config import load_options
from lkadv.metrics import summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import saved_examples
from lkadv.runner import run
from lkadv.store import ExampleStore, Ledger, cell_examples_key


def test_the_html_gallery_shows_the_saved_examples(tmp_path: Path) -> None:
    host = PluginHost(entry_points=False)
    opts = {"models": "fm-resnet", "attacks": "fgsm", "eps": "8/255", "limit": 12, "run_dir": tmp_path}
    run(load_options({**opts, "save_examples": 3}, env={}), host=host, progress=False)
    with Ledger(tmp_path) as ledger:
        summary = summarize(ledger)
    examples = saved_examples(tmp_path, summary, per_cell=2)
    assert [e.threat for e in examples] == ["fgsm@8/255", "fgsm@8/255"]
    cell = next(c for c in summary.cells if c.kind == "attack")
    store = ExampleStore(tmp_path)
    adv, clean = store.get(cell_examples_key(cell.key, 0)), store.get(cell_examples_key(cell.key, 0, clean=True))
    assert adv is not None and clean is not None and adv.ids == clean.ids
    for i, example in enumerate(examples):
        assert example.original.dtype == np.uint8 and example.original.shape == (28, 28, 1)
        assert np.array_equal(example.adversarial[..., 0], adv.images[i, 0])
        # within eps after quantization, as stored
        gap = np.abs(example.adversarial.astype(int) - example.original.astype(int)).max()
        assert gap <= 8 + 1
    page = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(tmp_path), "-o", str(page)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "gallery" in html.lower() and len(re.findall(r"data:image/png;base64,", html)) >= 3 * 3


def test_a_run_without_saved_examples_has_no_gallery(tmp_path: Path) -> None:
    host = PluginHost(entry_points=False)
    opts = {"models": "fm-resnet", "attacks": "fgsm", "eps": "8/255", "limit": 8, "run_dir": tmp_path}
    run(load_options(opts, env={}), host=host, progress=False)
    with Ledger(tmp_path) as ledger:
        assert saved_examples(tmp_path, summarize(ledger)) == []
