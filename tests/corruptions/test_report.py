"""The corruption report sections: titles name the form of every figure and the baseline."""

import pytest

from lkadv.config import load_options
from lkadv.errors import ConfigError
from lkadv.plugins import PluginHost
from lkadv.runner import run
from tests import toy_plugin


@pytest.fixture(scope="module")
def host():
    return PluginHost(entry_points=False, extra=[("toy", toy_plugin)])


def _run(tmp_path, host, **kw):
    base = dict(models="tag:toy", dataset="toy", corruptions="brightness,contrast", severities="1,5", run_dir=tmp_path)
    base.update(kw)
    return run(load_options(base, env={}, config_file=None), host=host)


def test_sections_with_a_baseline_model(tmp_path, host):
    result = _run(tmp_path, host, mce_baseline="toy-0")
    sections = {s.key: s for s in result.summary.sections}
    assert set(sections) >= {"corruption-errors", "mce", "severity-curves"}
    errors = sections["corruption-errors"]
    assert "unnormalized" in errors.title and errors.columns == ["corruption", "set", "toy-0", "toy-1"]
    assert [r[:2] for r in errors.rows] == [["brightness", "standard"], ["contrast", "standard"]]
    mce = sections["mce"]
    assert "by toy-0" in mce.title
    assert any("normalized by toy-0" in c for c in mce.columns) and any("/19, unnormalized" in c for c in mce.columns)
    row = {r[0]: r for r in mce.rows}
    assert row["toy-0"][1] == pytest.approx(100.0)  # the baseline's own mCE
    assert any("2 of the 15" in n for n in mce.notes)
    notes = sections["severity-curves"].notes
    assert any("not 224 px" in n and "1x8x8" in n for n in notes)
    # The per-corruption figure is the plain mean of the severities' errors.
    cells = {(c.model, c.label): c for c in result.summary.cells}
    expected = (
        100 * (2 - cells[("toy-1", "contrast@1")].accuracy.value - cells[("toy-1", "contrast@5")].accuracy.value) / 2
    )
    assert row and errors.rows[1][3] == pytest.approx(round(expected, 2))


def test_without_baseline_the_table_says_not_normalized(tmp_path, host):
    result = _run(tmp_path, host)
    mce = next(s for s in result.summary.sections if s.key == "mce")
    assert "not normalized" in mce.title
    assert all(r[1] is None for r in mce.rows)
    assert any("--mce-baseline" in n for n in mce.notes)


def test_baseline_must_be_a_model_of_the_run(tmp_path, host):
    with pytest.raises(ConfigError, match="not a model of this run"):
        _run(tmp_path, host, models="toy-1", mce_baseline="toy-0")


def test_mce_baseline_from_env_and_toml(tmp_path):
    opts = load_options({}, env={"LKADV_MCE_BASELINE": "fm-vit"}, config_file=None)
    assert opts.mce_baseline == "fm-vit"
    cfg = tmp_path / "lkadv.toml"
    cfg.write_text('[run]\nmce_baseline = "fm-resnet"\n')
    assert load_options({}, env={}, config_file=cfg).mce_baseline == "fm-resnet"
    assert load_options({"mce_baseline": "fm-slak"}, env={}, config_file=cfg).mce_baseline == "fm-slak"
