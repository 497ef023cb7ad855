"""Kernel attention scores against closed forms and a loop written from the study's definition."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.analyses import combine_branches, distance_map, kernel_scores


def _reference(kernel: torch.Tensor) -> float:
    # sum |w| * d / (R sqrt 2), tap by tap.
    k = kernel.shape[-1]
    r = k // 2
    total = 0.0
    for i in range(k):
        for j in range(k):
            total += abs(float(kernel[i, j])) * math.hypot(i - r, j - r) / (r * math.sqrt(2))
    return total


def test_centre_delta_scores_zero() -> None:
    w = torch.zeros(2, 1, 13, 13)
    w[:, 0, 6, 6] = 3.0
    assert kernel_scores(w).tolist() == [0.0, 0.0]


@given(st.integers(1, 15), st.data())
@settings(max_examples=40, deadline=None)
def test_ring_of_radius_r_scores_r_over_r_sqrt2_per_unit_weight(half: int, data: st.DataObject) -> None:
    k = 2 * half + 1
    r = data.draw(st.integers(1, half))
    w = torch.zeros(1, 1, k, k)
    for dy, dx in ((r, 0), (-r, 0), (0, r), (0, -r)):
        w[0, 0, half + dy, half + dx] = 1.0
    expected = 4 * r / (half * math.sqrt(2))
    assert math.isclose(float(kernel_scores(w)[0]), expected, rel_tol=1e-12)
    assert math.isclose(float(kernel_scores(w, normalize=True)[0]), r / (half * math.sqrt(2)), rel_tol=1e-12)


def test_corners_are_distance_one() -> None:
    d = distance_map(31)
    assert d[0, 0] == d[-1, -1] == 1.0
    assert d[15, 15] == 0.0


@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
@settings(max_examples=25, deadline=None)
def test_random_kernels_match_the_loop(half: int, seed: int) -> None:
    k = 2 * half + 1
    w = torch.randn(3, 1, k, k, generator=torch.Generator().manual_seed(seed))
    got = kernel_scores(w)
    for c in range(3):
        assert math.isclose(float(got[c]), _reference(w[c, 0]), rel_tol=1e-9)
    normalized = kernel_scores(w, normalize=True)
    assert bool(((normalized >= 0) & (normalized <= 1)).all())


def test_slak_pair_combines_into_the_merged_kernel() -> None:
    tall, wide = torch.randn(4, 1, 13, 3), torch.randn(4, 1, 3, 13)
    merged = combine_branches([tall, wide])
    assert merged.shape == (4, 1, 13, 13)
    assert torch.equal(
        merged[:, :, :, 5:8], tall.double() + torch.nn.functional.pad(wide.double(), (0, 0, 5, 5))[:, :, :, 5:8]
    )
    assert float(merged[:, :, 0, 0].abs().sum()) == 0.0
