"""The HTML report of a run: its size, the time to make it, and the time headless Chromium takes to render it.

Baselines, measured side by side in this process: the markdown report of the same
run (making the page vs making the text), and a blank page opened in the same
browser (rendering the report vs opening any file). Goals: at most 3 MB, under
2 s to render.

    python bench/html_report.py --run-dir RUN     # a finished run, e.g. the main job's
    python bench/html_report.py --limit 100       # runs the main job on 100 samples first
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.reporters.cdp drives the browser

from tests.reporters.cdp import Browser, find_chromium, problems

from lkadv.config import load_options
from lkadv.metrics import summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import render_html, render_markdown
from lkadv.runner import run
from lkadv.store import Ledger

RENDERED = "performance.getEntriesByType('navigation')[0].loadEventEnd"


def _timed(fn, rounds):
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _open(browser, path, rounds):
    wall, in_page = [], []
    for _ in range(rounds):
        wall.append(browser.open(path.as_uri()))
        in_page.append(browser.evaluate(RENDERED) / 1000)
    return statistics.median(wall), statistics.median(in_page)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--limit", default="100", help="samples of the main job when no --run-dir is given")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    host = PluginHost(entry_points=False)
    work = Path(tempfile.mkdtemp(prefix="lkadv-bench-html-"))
    run_dir = args.run_dir
    if run_dir is None:
        run_dir = work / "run"
        options = {"models": "all", "attacks": "pgd", "limit": args.limit, "run_dir": run_dir}
        run(load_options(options, env={}, config_file=None), host=host, progress=False)
    with Ledger(run_dir) as ledger:
        summary = summarize(ledger, host=host)
    lk = {m for m, _ in summary.models if m in ("fm-replknet", "fm-slak")}
    t_md, _ = _timed(lambda: render_markdown(summary), args.rounds)
    t_html, page = _timed(lambda: render_html(summary, large_kernel=lk), args.rounds)
    report = work / "report.html"
    report.write_text(page)
    blank = work / "blank.html"
    blank.write_text("<!DOCTYPE html><title>blank</title><p>blank</p>")
    size = report.stat().st_size / 1e6
    n = summary.subset.get("n")
    print(f"run {run_dir}: {len(summary.models)} models, {len(summary.columns)} threats, {n} samples")
    print(f"page size            {size:8.3f} MB   (goal <= 3 MB: {'met' if size <= 3 else 'NOT met'})")
    print(f"make markdown        {t_md:8.3f} s    (baseline)")
    print(f"make html            {t_html:8.3f} s    ratio {t_html / t_md:6.1f}x markdown (figures drawn by matplotlib)")
    chromium = find_chromium()
    if chromium is None:
        print("chromium not installed: no render time (apt-get install chromium)")
        return
    with Browser(chromium) as browser:
        b_wall, b_page = _open(browser, blank, args.rounds)
        r_wall, r_page = _open(browser, report, args.rounds)
        found = problems(browser.drain())
    print(f"open blank page      {b_wall:8.3f} s    load event at {b_page:.3f} s (baseline)")
    print(
        f"open report          {r_wall:8.3f} s    load event at {r_page:.3f} s, ratio {r_wall / b_wall:5.1f}x blank "
        f"(goal < 2 s: {'met' if r_wall < 2 else 'NOT met'})"
    )
    print(f"console errors {len(found['errors'])}, requests leaving the file {len(found['requests'])}")


if __name__ == "__main__":
    main()
