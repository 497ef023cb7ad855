import csv
import io
import json

from lkadv import hookimpl
from lkadv.config import load_options
from lkadv.metrics import ReportSection, summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import render_csv, render_json, render_markdown, render_terminal
from lkadv.runner import run
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
    # plugins in registration order (the built-ins first), the effective settings last
    assert [s.key for s in result.summary.sections] == ["sanity", "clean-error", "settings"]
    assert "section bug" in host.plugins["bad"].errors[0]
    with Ledger(tmp_path) as ledger:
        summary = summarize(ledger, host=host)
    md = render_markdown(summary)
    assert "#### clean error, %" in md and "- a note" in md
    text = render_terminal(summary)
    assert "clean error, %" in text and "fgsm@0.01" in text
    data = json.loads(render_json(summary))
    plugin = next(s for s in data["sections"] if s["key"] == "clean-error")
    assert plugin["rows"][0][0] == "toy-0"
    rows = list(csv.DictReader(io.StringIO(render_csv(summary))))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"done"}
    clean = next(r for r in rows if r["threat"] == "clean" and r["model"] == "toy-0")
    assert int(clean["n"]) == 40 and float(clean["ci_low"]) <= float(clean["accuracy"]) <= float(clean["ci_high"])


def _cell(model, label, kind, k, n, status="done"):
    from lkadv.metrics import CellResult, accuracy

    acc = accuracy([True] * k + [False] * (n - k)) if n else None
    return CellResult(
        key=f"{model}{label}",
        model=model,
        family="f",
        kind=kind,
        name=label.split("@")[0],
        label=label,
        threat_id=label,
        eps=None,
        severity=None,
        status=status,
        units_done=1,
        n_units=1,
        accuracy=acc,
        seconds=0.0,
        info={},
    )


def test_many_corruption_columns_fold_into_a_weighted_mean():
    from lkadv.metrics import Summary
    from lkadv.reporters import main_table

    cells = [_cell("m", "clean", "clean", 9, 10), _cell("m", "pgd@1/255", "attack", 5, 10)]
    labels = [f"c{i}@{s}" for i in range(3) for s in range(1, 5)]  # 12 corruption columns
    cells += [_cell("m", lab, "corruption", 2 if i == 0 else 5, 10) for i, lab in enumerate(labels)]
    summary = Summary({"id": 1, "plan": {}}, "d", {}, [("m", "f")], ["clean", "pgd@1/255", *labels], cells)
    columns, rows = main_table(summary)
    assert columns == ["clean", "pgd@1/255", "corruptions (mean)"]
    assert rows[0][2:] == ["90.0", "50.0", f"{100 * (2 + 11 * 5) / 120:.1f}"]
    few = Summary({"id": 1, "plan": {}}, "d", {}, [("m", "f")], ["clean", *labels[:3]], cells[:1] + cells[2:5])
    assert main_table(few)[0] == ["clean", *labels[:3]]


def test_json_export_writes_null_for_nan_and_says_why():
    from lkadv.metrics import Summary

    section = ReportSection(title="mCE", columns=["model", "mCE"], rows=[["m", float("nan")]], key="mce")
    summary = Summary({"id": 1, "plan": {}}, "toy", {}, [("m", "f")], [], [], sections=[section])
    text = render_json(summary)

    def refuse(constant):
        raise AssertionError(f"bare {constant} in the JSON export")

    data = json.loads(text, parse_constant=refuse)  # strict JSON
    assert data["sections"][0]["rows"][0][1] is None
    assert data["null_values"]["paths"] == ["$.sections[0].rows[0][1]"]
    assert "not computable" in data["null_values"]["why"]
