"""The Gauss-vs-plain report section: pairing, paired counts and the exact McNemar test."""

import types

import numpy as np
import pytest

from lkadv.metrics import CellResult, Summary, accuracy
from lkadv.metrics import mcnemar_exact as mcnemar_p
from lkadv.types import Outcomes
from lkadv.zoo._gauss_report import gauss_section

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize(("a", "b"), [(0, 0), (3, 9), (10, 10), (0, 7), (25, 12)])
def test_mcnemar_matches_scipys_binomial_test(a, b):
    expected = 1.0 if a + b == 0 else scipy_stats.binomtest(a, a + b, 0.5).pvalue
    assert mcnemar_p(a, b) == pytest.approx(expected)


def _cell(model, label, correct):
    return CellResult(model + label, model, "f", "attack", label.split("@")[0], label, label, 1.0, None, "done",
                      1, 1, accuracy(correct), 0.0, {})  # fmt: skip


def test_the_section_pairs_each_gauss_model_with_its_twin():
    plain = np.array([1, 1, 0, 0, 1, 0, 1, 1], bool)
    gauss = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)
    cells = [
        _cell("fm-resnet", "onepixel-l0@1", plain),
        _cell("fm-resnet-gauss", "onepixel-l0@1", gauss),
        _cell("fm-vit", "onepixel-l0@1", plain),  # no twin: not in the section
    ]
    outcomes = {c.key: Outcomes(c_, np.zeros(8, np.int64), np.zeros(8, np.float32), np.ones(8, bool))
                for c, c_ in zip(cells, (plain, gauss, plain), strict=True)}  # fmt: skip
    ledger = types.SimpleNamespace(outcomes=lambda key: outcomes[key])
    models = [("fm-resnet", "resnet"), ("fm-resnet-gauss", "gauss"), ("fm-vit", "vit")]
    summary = Summary({"id": 1}, "d", {}, models, ["onepixel-l0@1"], cells)
    section = gauss_section(summary, ledger)
    assert section.key == "gauss-vs-plain"
    (row,) = section.rows
    assert row[:2] == ["fm-resnet-gauss vs fm-resnet", "onepixel-l0@1"]
    assert row[2] == pytest.approx(62.5) and row[3] == pytest.approx(87.5) and row[4] == pytest.approx(25.0)
    assert row[5:7] == [1, 3] and float(row[7]) == pytest.approx(mcnemar_p(1, 3))
    assert gauss_section(Summary({"id": 1}, "d", {}, models[2:], [], cells[2:]), ledger) is None
