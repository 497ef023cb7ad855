import csv
import io
import json

from lkadv import hookimpl
from lkadv.config import load_options
from lkadv.executors import run
from lkadv.metrics import ReportSection, summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import render_csv, render_json, render_markdown, render_terminal
from lkadv.store import Ledger
from tests import toy_plugin


class _Sections:
    @staticmethod
    @hookimpl
    def lkadv_report_sections(summary, ledger):
        clean = [c for c in summary.cells if c.kind == "clean"]
        return [
            ReportSection(
                title="clean error, %",
                columns=["model", "error"],
                rows=[[c.model, 100 * (1 - c.accuracy.value)] for c in clean],
                notes=["a note"],
                key="clean-error",
            )
        ]


class _Broken:
    @staticmethod
    @hookimpl
    def lkadv_report_sections(summary, ledger):
        raise RuntimeError("section bug")


def test_formats_and_plugin_sections(tmp_path):
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin), ("sec", _Sections), ("bad", _Broken)])
    opts = load_options(
        dict(models="tag:toy", dataset="toy", attacks="fgsm", limit=40, run_dir=tmp_path), env={}, config_file=None
    )
    result = run(opts, host=host)
    assert [s.key for s in result.summary.sections] == ["clean-error", "sanity"]  # built-in sanity flags follow
    assert "section bug" in host.plugins["bad"].errors[0]
    with Ledger(tmp_path) as ledger:
        summary = summarize(ledger, host=host)
    md = render_markdown(summary)
    assert "#### clean error, %" in md and "- a note" in md
    text = render_terminal(summary)
    assert "clean error, %" in text and "fgsm@0.01" in text
    data = json.loads(render_json(summary))
    assert data["sections"][0]["rows"][0][0] == "toy-0"
    rows = list(csv.DictReader(io.StringIO(render_csv(summary))))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"done"}
    clean = next(r for r in rows if r["threat"] == "clean" and r["model"] == "toy-0")
    assert int(clean["n"]) == 40 and float(clean["ci_low"]) <= float(clean["accuracy"]) <= float(clean["ci_high"])
