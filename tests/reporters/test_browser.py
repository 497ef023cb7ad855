"""The HTML report in a real browser: headless Chromium opens the main job's report from a file.

The test fails on any console error or uncaught exception, on any request that
leaves the file (the page must work offline), and on a figure that draws no
data; it takes a screenshot. Chromium is Debian's ``chromium`` package (.ci/run
installs it). Without it the test is skipped, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lkadv.cli import main
from lkadv.config import load_options
from lkadv.plugins import PluginHost
from lkadv.reporters import render_html
from lkadv.runner import run
from tests.reporters.cdp import Browser, find_chromium, problems
from tests.reporters.test_html import SCRIPT, _hostile_summary

FIGURES = """
Array.from(document.querySelectorAll('figure.lk-figure')).map(f => {
  const marks = Array.from(f.querySelectorAll('svg [id^="lk-data"]'));
  const drawn = marks.filter(m => m.querySelector('path[d], use') || (m.tagName === 'path' && m.getAttribute('d')));
  const box = f.querySelector('svg').getBoundingClientRect();
  return {id: f.id, points: Number(f.dataset.points), marks: marks.length, drawn: drawn.length,
          width: box.width, height: box.height};
})
"""

SORT = """
(() => {
  const table = document.getElementById('matrix-table');
  const th = Array.from(table.tHead.rows[0].cells).find(h => h.textContent.trim() === 'clean');
  th.click();
  const index = Array.from(table.tHead.rows[0].cells).indexOf(th);
  return Array.from(table.tBodies[0].rows).map(r => Number(r.cells[index].getAttribute('data-sort')));
})()
"""


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium for this test")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="module")
def main_job_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's main job (every mini-zoo model, PGD at the default eps grid) on 40 samples, as HTML."""
    root = tmp_path_factory.mktemp("browser")
    host = PluginHost(entry_points=False)  # built-ins only: "all" is the mini zoo
    options = {"models": "all", "attacks": "pgd", "limit": "40", "run_dir": root / "run"}
    result = run(load_options(options, env={}, config_file=None), host=host, progress=False)
    assert not result.failures
    page = root / "report.html"
    res = CliRunner().invoke(main, ["report", str(root / "run"), "-o", str(page), "--pair", "fm-resnet,fm-replknet"])
    assert res.exit_code == 0, res.output
    return page


@pytest.mark.slow
def test_main_job_report_renders_offline_without_errors(chromium: str, main_job_report: Path) -> None:
    with Browser(chromium) as browser:
        browser.open(main_job_report.as_uri())
        figures = browser.evaluate(FIGURES)
        order = browser.evaluate(SORT)
        text = browser.evaluate("document.body.innerText")
        shot = main_job_report.with_suffix(".png")
        browser.screenshot(shot)
        found = problems(browser.drain())
    assert found == {"errors": [], "requests": []}, json.dumps(found)[:2000]
    assert {f["id"] for f in figures} == {"fig-heatmap", "fig-curves-pgd"}
    for figure in figures:
        assert figure["points"] > 0 and figure["drawn"] > 0 and figure["width"] > 200, figure
    heat = next(f for f in figures if f["id"] == "fig-heatmap")
    assert heat["points"] == 7 * 5  # seven models x (clean + four eps)
    curves = next(f for f in figures if f["id"] == "fig-curves-pgd")
    assert curves["drawn"] == 7  # one line per model
    assert order == sorted(order) and len(order) == 7  # the header click sorted the column
    for expected in (
        "fm-replknet (large kernel)",
        "fm-slak (large kernel)",
        "sanity flags",
        "paired comparison",
        "per-class accuracy at clean",
    ):
        assert expected in text
    assert "fm-resnet (large kernel)" not in text
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("LKADV_SCREENSHOT_DIR")
    if keep:
        shutil.copy(shot, Path(keep) / "main-job-report.png")


def test_hostile_names_are_text_in_the_browser(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render_html(_hostile_summary()))
    with Browser(chromium) as browser:
        browser.open(page.as_uri())
        first = browser.evaluate("document.querySelector('#matrix-table tbody td').textContent.trim()")
        scripts = browser.evaluate("document.scripts.length")
        events = browser.drain()
    assert first == SCRIPT  # shown as its own text
    assert scripts == 1  # the page's own script, no other
    assert not [e for e in events if e.get("method") == "Page.javascriptDialogOpening"]  # alert() never ran
    assert problems(events) == {"errors": [], "requests": []}


def test_compare_page_renders_offline_without_errors(chromium: str, tmp_path: Path) -> None:
    from lkadv.reporters import compare_runs, render_comparison
    from tests import toy_plugin

    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    dirs = []
    for name, params in (("a", ""), ("b", "pgd.steps=3")):
        options = {"models": "tag:toy", "dataset": "toy", "attacks": "pgd", "eps": "0.03", "limit": "40"}
        options |= {"run_dir": tmp_path / name, "attack_params": params}
        assert not run(load_options(options, env={}, config_file=None), host=host, progress=False).failures
        dirs.append(tmp_path / name)
    page = tmp_path / "compare.html"
    page.write_text(render_comparison(compare_runs(dirs), "html"))
    with Browser(chromium) as browser:
        browser.open(page.as_uri())
        text = browser.evaluate("document.body.innerText")
        found = problems(browser.drain())
    assert found == {"errors": [], "requests": []}
    assert "threat.config.steps" in text and "clean: ranking" in text
