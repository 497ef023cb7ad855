"""The HTML report, the figures, the paired and per-class sections, and outside text in every format."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from PIL import Image
from scipy.stats import binomtest

from lkadv.cli import main
from lkadv.config import load_options
from lkadv.metrics import CellResult, ReportSection, Summary, accuracy, summarize
from lkadv.plugins import PluginHost
from lkadv.reporters import (
    Example,
    gallery_items,
    pair_section,
    per_class_section,
    plots,
    render_csv,
    render_html,
    render_markdown,
    render_terminal,
)
from lkadv.runner import run
from lkadv.store import Ledger
from tests import toy_plugin

SCRIPT = "<script>alert(1)</script>"
MARKUP = "[bold red]x[/]"
FORMULA = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("html") / "run"
    host = PluginHost(entry_points=False, extra=[("toy", toy_plugin)])
    options = dict(
        models="tag:toy",
        dataset="toy",
        attacks="fgsm",
        eps="0.01,0.03",
        corruptions="gaussian_noise,contrast",
        severities="1,3",
        limit="60",
        mce_baseline="toy-0",
        run_dir=run_dir,
    )
    result = run(load_options(options, env={}, config_file=None), host=host, progress=False)
    assert not result.failures
    return run_dir


def _summary(run_dir: Path) -> Summary:
    with Ledger(run_dir) as ledger:
        return summarize(ledger)


def _wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return 100 * ci.low, 100 * ci.high


def test_page_holds_every_section_with_intervals_checked_against_scipy(toy_run: Path) -> None:
    summary = _summary(toy_run)
    page = render_html(summary, large_kernel={"toy-1"})
    for anchor in ("matrix", "fig-heatmap", "fig-curves-fgsm", "fig-corruption-severity", "fig-ce-bars"):
        assert f'id="{anchor}"' in page, anchor
    assert "toy-1 (large kernel)" in page
    assert page.count("<script") == 1  # lkadv's one inline script, nothing else
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(\s*["']?https?:|@import""", page)
    # Every done cell shows its value and its Wilson interval, as scipy computes it.
    for cell in summary.cells:
        assert cell.accuracy is not None
        low, high = _wilson(cell.accuracy.k, cell.accuracy.n)
        assert f'{100 * cell.accuracy.value:.1f}<span class="ci">[{low:.1f}, {high:.1f}]</span>' in page
        assert f"{cell.accuracy.k}/{cell.accuracy.n} correct" in page
    # Every figure is there with data-drawing elements.
    for figure in re.findall(
        r'<figure id="fig-[^"]+" class="lk-figure" data-points="(\d+)">(.*?)</figure>', page, re.S
    ):
        assert int(figure[0]) > 0 and 'id="lk-data' in figure[1]
    # Provenance and identities.
    assert summary.cells[0].key in page and "versions.torch" in page


def test_curves_plot_every_eps_and_clean_point(toy_run: Path) -> None:
    summary = _summary(toy_run)
    by_key = {p.key: p for p in plots(summary)}
    # 2 models x (clean + 2 eps); corruption: 2 models x 2 corruptions x 2 severities.
    assert by_key["curves-fgsm"].points == 6
    assert by_key["corruption-severity"].points == 8
    assert by_key["heatmap"].points == len(summary.cells) == 2 * 7


def test_plots_dir_writes_svg_and_png_of_each_figure(toy_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "figs"
    res = CliRunner().invoke(
        main,
        [
            "-p",
            "tests.toy_plugin",
            "report",
            str(toy_run),
            "-f",
            "json",
            "-o",
            str(tmp_path / "r.json"),
            "--plots",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    keys = {"heatmap", "curves-fgsm", "corruption-severity", "ce-bars"}
    assert names == sorted(f"{k}{s}" for k in keys for s in (".svg", ".png"))
    for key in keys:
        root = ET.parse(out / f"{key}.svg").getroot()
        assert any(str(el.get("id", "")).startswith("lk-data") for el in root.iter())
        with Image.open(out / f"{key}.png") as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_pair_section_matches_an_independent_count(toy_run: Path) -> None:
    with Ledger(toy_run) as ledger:
        summary = summarize(ledger)
        section = pair_section(summary, ledger, "toy-0", "toy-1")
        outcomes = {(c.model, c.label): ledger.outcomes(c.key).correct for c in summary.cells}
    assert [r[0] for r in section.rows] == summary.columns
    for row in section.rows:
        a, b = outcomes[("toy-0", row[0])], outcomes[("toy-1", row[0])]
        only_a, only_b = int(np.sum(a & ~b)), int(np.sum(b & ~a))
        assert row[6:8] == [only_a, only_b]
        ref = 1.0 if only_a + only_b == 0 else binomtest(only_a, only_a + only_b, 0.5).pvalue
        assert float(row[8]) == pytest.approx(ref, rel=1e-2)  # shown with 3 significant digits
        assert row[5] == pytest.approx(100 * (b.mean() - a.mean()), abs=0.01)
        low, high = _wilson(int(a.sum()), a.size)
        assert row[2] == f"[{low:.1f}, {high:.1f}]"


def test_per_class_section_matches_numpy(toy_run: Path) -> None:
    with Ledger(toy_run) as ledger:
        summary = summarize(ledger)
        section = per_class_section(summary, ledger, "fgsm@0.03")
        labels = np.asarray(ledger.subset_labels(summary.subset["digest"]))
        cell = summary.cell("toy-1", "fgsm@0.03")
        assert cell is not None
        correct = ledger.outcomes(cell.key).correct
    column = section.columns.index("toy-1")
    for row in section.rows:
        mask = labels == int(row[0])
        assert row[1] == int(mask.sum())
        assert row[column].startswith(f"{100 * correct[mask].mean():.1f} [")


def test_bad_report_options_are_usage_errors_that_write_nothing(toy_run: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    out = tmp_path / "r.html"
    for args, message in (
        (["--pair", "toy-0"], "give two model names"),
        (["--pair", "toy-0,nope"], "no model 'nope' in this run"),
        (["--pair", "toy-0,toy-0"], "two different models"),
        (["--per-class", "pgd@9"], "no threat 'pgd@9'"),
    ):
        res = cli.invoke(main, ["-p", "tests.toy_plugin", "report", str(toy_run), "-o", str(out), *args])
        assert res.exit_code == 2 and message in res.output, (args, res.output)
        assert not out.exists()


def _example(rng: np.random.Generator, shape: tuple[int, ...], model: str = "m") -> Example:
    original = rng.integers(0, 256, size=shape, dtype=np.uint8)
    noise = rng.integers(-8, 9, size=shape)
    adversarial = np.clip(original.astype(int) + noise, 0, 255).astype(np.uint8)
    return Example(model, "pgd@8/255", "t10k/00001", 3, original, adversarial, 3, 5)


def _decode(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as image:
        return np.asarray(image)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), channels=st.sampled_from([None, 1, 3]))
def test_gallery_images_round_trip_exactly(seed: int, channels: int | None) -> None:
    rng = np.random.default_rng(seed)
    shape = (12, 10) if channels is None else (12, 10, channels)
    ex = _example(rng, shape)
    (item,) = gallery_items([ex])
    squeeze = (lambda a: a[:, :, 0]) if channels == 1 else (lambda a: a)
    assert np.array_equal(_decode(item["original"]), squeeze(ex.original))
    assert np.array_equal(_decode(item["adversarial"]), squeeze(ex.adversarial))
    diff = ex.adversarial.astype(int) - ex.original.astype(int)
    peak = int(np.abs(diff).max())
    expected = np.clip(128 + np.round(diff * (127.0 / peak if peak else 0.0)), 0, 255).astype(np.uint8)
    assert np.array_equal(_decode(item["perturbation"]), squeeze(expected)) and item["peak"] == peak


def test_gallery_section_shows_examples_and_nothing_without_them(toy_run: Path) -> None:
    summary = _summary(toy_run)
    rng = np.random.default_rng(0)
    examples = [_example(rng, (8, 8, 1), model=SCRIPT) for _ in range(6)]
    page = render_html(summary, examples=examples)
    assert 'id="gallery"' in page and page.count('class="example"') == 4  # four per (model, threat)
    assert SCRIPT not in page and html.escape(SCRIPT, quote=False) in page
    assert 'id="gallery"' not in render_html(summary)
    with pytest.raises(ValueError, match="must be a uint8 numpy array"):
        gallery_items([Example("m", "t", "s", 0, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), 0, 0)])
    with pytest.raises(ValueError, match="differ in shape"):
        gallery_items([Example("m", "t", "s", 0, np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8), 0, 0)])


def _hostile_summary() -> Summary:
    def cell(model: str, family: str, label: str, kind: str, k: int, eps: float | None = None) -> CellResult:
        return CellResult(
            key=f"{model}/{label}",
            model=model,
            family=family,
            kind=kind,
            name=label.split("@")[0],
            label=label,
            threat_id=label,
            eps=eps,
            severity=None,
            status="done",
            units_done=1,
            n_units=1,
            accuracy=accuracy([True] * k + [False] * (20 - k)),
            seconds=0.0,
            info={},
        )

    models = [(SCRIPT, FORMULA), (MARKUP, "resnet")]
    cells = [cell(m, f, "clean", "clean", 15) for m, f in models]
    cells += [cell(m, f, "pgd@0.1", "attack", 7, 0.1) for m, f in models]
    section = ReportSection(
        title=SCRIPT, columns=["model", FORMULA], rows=[[MARKUP, FORMULA]], notes=[FORMULA], key="h"
    )
    run_record = {"id": 1, "status": "done", "plan": {}, "provenance": {"plugins": {"h": FORMULA}}}
    return Summary(run_record, "toy", {"n": 20}, models, ["clean", "pgd@0.1"], cells, sections=[section])


def test_hostile_names_are_text_in_html_md_csv_and_terminal() -> None:
    summary = _hostile_summary()
    page = render_html(summary)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 1 and MARKUP in page
    assert str(escape(FORMULA)) in page  # shown (escaped for HTML), never interpreted
    md = render_markdown(summary)
    assert "<script" not in md and "&lt;script>alert(1)&lt;/script>" in md and MARKUP in md
    assert "=cmd\\|' /C calc'!A0" in md  # the | cannot open a markdown column
    rows = list(csv.DictReader(io.StringIO(render_csv(summary))))
    assert {r["model"] for r in rows} == {SCRIPT, MARKUP}
    assert {r["family"] for r in rows} == {"'" + FORMULA, "resnet"}  # a spreadsheet shows it as text
    text = render_terminal(summary, width=300)
    assert SCRIPT in text and MARKUP in text and FORMULA in text  # rich markup shown, not applied


def test_hostile_plugin_text_is_escaped_through_the_cli(tmp_path: Path) -> None:
    from tests.plugins.hostile_plugin import HOSTILE

    plugins = ["-p", "tests.toy_plugin", "-p", "tests.plugins.hostile_plugin"]
    run_dir = str(tmp_path / "run")
    cli = CliRunner()
    args = ["run", "-m", "h-model,toy-0", "-d", "toy", "-a", "h-identity", "--eps", "0.03", "--limit", "20"]
    res = cli.invoke(main, [*plugins, *args, "--run-dir", run_dir])
    assert res.exit_code == 0, res.output
    page = cli.invoke(main, [*plugins, "report", run_dir, "-f", "html"]).output
    assert "\x1b" not in page and "\\x1b[31mRED" in page  # control characters shown, not sent
    assert "[bold red]MARKUP[/]" in page and page.count("<script") == 1
    assert str(escape(HOSTILE.replace("\x1b", "\\x1b"))) in page  # the hostile family and section, as text


def _corruption_summary(label_space: str, baseline: str | None) -> Summary:
    errors = {  # errors in %, by model, corruption and severity
        "a": {"gaussian_noise": {1: 30, 3: 50}, "fog": {1: 20, 3: 40}},
        "b": {"gaussian_noise": {1: 45, 3: 70}, "fog": {1: 10, 3: 15}},
    }
    cells = []
    for model, by_name in errors.items():
        for name, by_sev in by_name.items():
            for sev, err in by_sev.items():
                k = 100 - err
                cells.append(
                    CellResult(
                        key=f"{model}{name}{sev}",
                        model=model,
                        family="f",
                        kind="corruption",
                        name=name,
                        label=f"{name}@{sev}",
                        threat_id=f"{name}@{sev}",
                        eps=None,
                        severity=sev,
                        status="done",
                        units_done=1,
                        n_units=1,
                        accuracy=accuracy([True] * k + [False] * (100 - k)),
                        seconds=0.0,
                        info={},
                    )
                )
    plan = {"label_space": label_space, "mce_baseline": baseline}
    columns = list(dict.fromkeys(c.label for c in cells))
    return Summary({"id": 1, "plan": plan}, "d", {"n": 100}, [("a", "f"), ("b", "f")], columns, cells)


def test_ce_bars_against_the_published_alexnet_errors_and_a_baseline_model() -> None:
    imagenet = {p.key: p for p in plots(_corruption_summary("imagenet-1k", None))}["ce-bars"]
    # CE = summed error over AlexNet's (published mean error at every severity), by name.
    assert imagenet.values["b"]["gaussian_noise"] == pytest.approx(100 * (45 + 70) / (2 * 88.6428))
    assert imagenet.values["a"]["fog"] == pytest.approx(100 * (20 + 40) / (2 * 81.9324))
    assert "AlexNet" in imagenet.title
    by_model = {p.key: p for p in plots(_corruption_summary("fashion-mnist", "a"))}["ce-bars"]
    assert set(by_model.values) == {"b"}  # the baseline itself is 100 everywhere
    assert by_model.values["b"]["gaussian_noise"] == pytest.approx(100 * 115 / 80)
    assert by_model.values["b"]["fog"] == pytest.approx(100 * 25 / 60)
    assert "ce-bars" not in {p.key for p in plots(_corruption_summary("fashion-mnist", None))}


def test_terminal_and_markdown_show_each_accuracy_with_its_wilson_interval(toy_run: Path) -> None:
    summary = _summary(toy_run)
    text, md = render_terminal(summary, width=400), render_markdown(summary)
    for cell in summary.cells:
        assert cell.accuracy is not None
        low, high = _wilson(cell.accuracy.k, cell.accuracy.n)
        shown = f"{100 * cell.accuracy.value:.1f} [{low:.1f}-{high:.1f}]"
        assert shown in text and shown in md, shown
    rows = list(csv.DictReader(io.StringIO(render_csv(summary))))
    for row in rows:
        low, high = _wilson(int(row["correct"]), int(row["n"]))
        assert float(row["ci_low"]) == pytest.approx(low / 100, abs=1e-6)
        assert float(row["ci_high"]) == pytest.approx(high / 100, abs=1e-6)
