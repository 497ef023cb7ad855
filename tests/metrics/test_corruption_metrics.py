"""Corruption metrics against closed-form cases and the published AlexNet constants."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lkadv.metrics import (
    ALEXNET_CLEAN_ERROR,
    ALEXNET_ERRORS,
    EXTRA_CORRUPTIONS,
    STANDARD_CORRUPTIONS,
    alexnet_baseline,
    corruption_error,
    mean_ce,
    mean_corruption_accuracy,
    mean_error,
    relative_corruption_error,
    relative_mean_ce,
    severity_curve,
)

SEVS = (1, 2, 3, 4, 5)


def test_alexnet_constants_by_name():
    # Spot values from the reference text, looked up by name (order-independent).
    assert ALEXNET_ERRORS["glass_blur"] == 0.826268
    assert ALEXNET_ERRORS["jpeg_compression"] == 0.606500
    assert ALEXNET_ERRORS["brightness"] == 0.564592
    assert set(ALEXNET_ERRORS) == set(STANDARD_CORRUPTIONS)
    assert not set(EXTRA_CORRUPTIONS) & set(ALEXNET_ERRORS)
    assert math.isclose(ALEXNET_CLEAN_ERROR, 0.43478)


def test_alexnet_normalizes_to_100_and_ce_is_a_ratio_of_sums():
    base = alexnet_baseline(STANDARD_CORRUPTIONS)
    assert math.isclose(mean_ce(base, base), 1.0)
    model = {n: {s: 0.5 * ALEXNET_ERRORS[n] for s in SEVS} for n in STANDARD_CORRUPTIONS}
    assert math.isclose(mean_ce(model, base), 0.5)
    uneven = {"fog": {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4, 5: 0.5}}
    assert math.isclose(corruption_error(uneven, base, "fog"), 1.5 / (5 * 0.819324))


def test_relative_ce_closed_form():
    base = {"fog": dict.fromkeys(SEVS, 0.6)}
    own = {"fog": dict.fromkeys(SEVS, 0.3)}
    # (5 * 0.3 - 5 * 0.1) / (5 * 0.6 - 5 * 0.2) = 0.5
    assert math.isclose(relative_corruption_error(own, 0.1, base, 0.2, "fog"), 0.5)
    assert math.isclose(relative_mean_ce(own, 0.1, base, 0.2, ["fog"]), 0.5)


def test_unnormalized_means_and_curves():
    errors = {n: {s: s / 10 for s in SEVS} for n in (*STANDARD_CORRUPTIONS, *EXTRA_CORRUPTIONS)}
    errors["saturate"] = dict.fromkeys(SEVS, 1.0)
    assert math.isclose(mean_error(errors, STANDARD_CORRUPTIONS), 0.3)
    all19 = (*STANDARD_CORRUPTIONS, *EXTRA_CORRUPTIONS)
    assert math.isclose(mean_error(errors, all19), (18 * 0.3 + 1.0) / 19)
    assert math.isclose(mean_corruption_accuracy(errors, all19), 1 - (18 * 0.3 + 1.0) / 19)
    curve = severity_curve(errors, ["fog", "saturate"])
    assert curve == {s: pytest.approx((s / 10 + 1.0) / 2) for s in SEVS}


def test_missing_data_is_an_error():
    base = alexnet_baseline(["fog"])
    with pytest.raises(KeyError, match="frost"):
        corruption_error({"frost": {1: 0.5}}, base, "frost")
    with pytest.raises(KeyError, match="speckle_noise"):
        alexnet_baseline(["speckle_noise"])


@given(st.lists(st.floats(0.01, 1.0), min_size=5, max_size=5), st.floats(0.1, 10.0))
def test_ce_scales_linearly(errs, k):
    base = {"fog": dict(zip(SEVS, errs, strict=True))}
    scaled = {"fog": {s: e * k for s, e in base["fog"].items()}}
    assert math.isclose(corruption_error(scaled, base, "fog"), k, rel_tol=1e-9)
