"""Saved examples: 8-bit quantization inside the ball, content-addressed atomic storage."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lkadv.errors import StoreError
from lkadv.store import ExampleSet, ExampleStore, quantize_uint8


@settings(max_examples=200, deadline=None)
@given(
    clean=arrays(np.uint8, (3, 1, 4, 4)),
    delta=arrays(np.float64, (3, 1, 4, 4), elements=st.floats(-1, 1)),
    eps=st.floats(0, 0.2),
)
def test_quantized_examples_are_on_the_grid_in_range_and_in_the_ball(clean, delta, eps) -> None:
    x = clean.astype(np.float64) / 255
    x_adv = np.clip(x + np.clip(delta, -eps, eps), 0, 1)
    q = quantize_uint8(x_adv, x, eps)
    back = q.astype(np.float64) / 255
    assert q.dtype == np.uint8 and q.shape == x.shape
    assert (back >= 0).all() and (back <= 1).all()
    assert np.abs(back - x).max() <= eps + 1e-6
    # the nearest grey level is kept wherever it lies in the ball
    nearest = np.rint(x_adv * 255)
    inside = np.abs(nearest / 255 - x) <= eps
    assert (q[inside] == nearest[inside]).all()


@settings(max_examples=100, deadline=None)
@given(x=arrays(np.float64, (8,), elements=st.floats(0, 1)), eps=st.floats(0.5 / 255, 0.1))
def test_off_grid_clean_images_still_quantize_inside_the_ball(x, eps) -> None:
    x_adv = np.clip(x + eps, 0, 1)
    q = quantize_uint8(x_adv, x, eps)
    assert np.abs(q / 255 - x).max() <= eps + 1e-6


def test_no_grey_level_in_the_ball_is_an_error() -> None:
    with pytest.raises(StoreError, match="half a grey level"):
        quantize_uint8(np.array([0.5 / 255]), np.array([0.5 / 255]), 0.1 / 255)


def _set(n: int = 4) -> ExampleSet:
    rng = np.random.default_rng(0)
    return ExampleSet(
        np.arange(n),
        [f"s{i}" for i in range(n)],
        rng.integers(0, 256, (n, 1, 5, 5), dtype=np.uint8),
        rng.integers(0, 10, n),
        rng.integers(0, 10, n),
        {"source": "fm-resnet", "eps": 8 / 255},
    )


def test_round_trip_content_address_and_tamper_check(tmp_path) -> None:
    store = ExampleStore(tmp_path)
    assert store.get("k1") is None
    digest = store.put("k1", _set())
    got = store.get("k1")
    assert got is not None and got.ids == _set().ids and got.meta["source"] == "fm-resnet"
    np.testing.assert_array_equal(got.images, _set().images)
    assert store.put("k2", _set()) == digest  # same content, same blob
    assert len(list((tmp_path / "examples" / "blobs").iterdir())) == 1
    assert store.list_keys() == ["k1", "k2"]
    blob = store.blob_path(digest)
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")
    with pytest.raises(StoreError, match="corrupt"):
        store.get("k1")
    with pytest.raises(StoreError, match="bad example key"):
        store.get("../x")
