"""The metrics against hand-computed cases and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.datasets.imagenet import average_precision, bg_gap, corruption_errors, flip_probability, top5_distance
from lkadv.metrics._corruption import ALEXNET_ERRORS, STANDARD_CORRUPTIONS


def test_average_precision_hand_case():
    # ranks: +, -, +, -  -> precision 1/1 at recall .5, 2/3 at recall 1
    assert average_precision([1, 0, 1, 0], [4, 3, 2, 1]) == pytest.approx(0.5 + 0.5 * 2 / 3)
    # a tie between a positive and a negative enters as one threshold: precision 1/2 at recall 1
    assert average_precision([1, 0], [1.0, 1.0]) == pytest.approx(0.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 6)), min_size=1, max_size=40))
def test_average_precision_matches_sklearn(pairs):
    from sklearn.metrics import average_precision_score

    labels = np.array([p for p, _ in pairs])
    scores = np.array([s for _, s in pairs], dtype=float)
    if not labels.any():
        assert np.isnan(average_precision(labels, scores))
        return
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores))


def test_flip_probability_cases():
    assert flip_probability([[1, 1, 2, 1, 2]], noise=True) == pytest.approx(0.5)  # vs frame 0
    assert flip_probability([[1, 1, 2, 1, 2]], noise=False) == pytest.approx(0.75)  # consecutive
    # difficulty 2: pairs (0,2) (2,4) (1,3): 1!=2, 2==2, 1==1 -> 1/3
    assert flip_probability([[1, 1, 2, 1, 2]], noise=False, difficulty=2) == pytest.approx(1 / 3)
    assert flip_probability([[3, 3, 3], [1, 2, 1]], noise=False) == pytest.approx(0.5)  # mean over videos


def test_top5_distance_cases():
    a = np.array([5, 6, 7, 8, 9])
    b = np.array([6, 7, 8, 9, 10])
    assert top5_distance([np.stack([a, a])], noise=False) == 0
    assert top5_distance([np.stack([a, b])], noise=False) == 9  # the top class falls out: 5 + 1 + 1 + 1 + 1
    assert top5_distance([np.stack([b, a])], noise=False) == 5
    swapped = np.array([6, 5, 7, 8, 9])
    assert top5_distance([np.stack([a, swapped])], noise=False) == 2


def test_corruption_errors_alexnet_is_100_percent():
    errors = {c: dict.fromkeys(range(1, 6), ALEXNET_ERRORS[c]) for c in STANDARD_CORRUPTIONS}
    errors["saturate"] = dict.fromkeys(range(1, 6), 0.9)  # extra corruption: outside mCE
    out = corruption_errors(errors)
    assert out["mCE"] == pytest.approx(1.0)
    assert out["mean error"] == pytest.approx(np.mean(list(ALEXNET_ERRORS.values())))
    assert "CE:saturate" not in out and out["mean error:saturate"] == pytest.approx(0.9)


def test_bg_gap():
    assert bg_gap(86.2, 78.9) == pytest.approx(7.3)
