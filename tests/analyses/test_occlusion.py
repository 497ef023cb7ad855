"""Occlusion masks: the study's patch counts, exact per-sample draws, DINO's foreground rule."""

from __future__ import annotations

import itertools

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.analyses import apply_patch_mask, auto_grid, drop_count, foreground, random_patch_masks


def test_patch_counts_are_floor_k_196_over_10() -> None:
    assert [drop_count(k, 196) for k in range(10)] == [0, 19, 39, 58, 78, 98, 117, 137, 156, 176]
    assert auto_grid(224) == 14 and auto_grid(28) == 7 and auto_grid(384) == 24


@given(st.integers(1, 9), st.integers(0, 49), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_random_masks_hold_exactly_count_patches_each(n: int, count: int, seed: int) -> None:
    masks = random_patch_masks(n, 49, count, torch.Generator().manual_seed(seed))
    assert masks.sum(1).tolist() == [count] * n


def test_samples_get_their_own_draws() -> None:
    masks = random_patch_masks(64, 196, 19, torch.Generator().manual_seed(0))
    assert len({tuple(m.nonzero().flatten().tolist()) for m in masks}) == 64


def test_apply_patch_mask_zeroes_exactly_the_masked_patches() -> None:
    x = torch.rand(2, 3, 30, 30, generator=torch.Generator().manual_seed(1)) + 0.01
    masks = torch.zeros(2, 49, dtype=torch.bool)
    masks[0, [0, 8, 48]] = True
    out = apply_patch_mask(x, masks, 7)
    expected = x.clone()
    for cell in (0, 8, 48):
        r, c = divmod(cell, 7)
        expected[0, :, r * 4 : r * 4 + 4, c * 4 : c * 4 + 4] = 0
    assert torch.equal(out, expected)  # the 2 px past the last whole patch stay


def _reference_foreground(saliency: list[float], lam: float) -> list[bool]:
    order = sorted(range(len(saliency)), key=lambda i: saliency[i])
    total = sum(saliency)
    out, running = [False] * len(saliency), 0.0
    for i in order:
        running += saliency[i] / total
        out[i] = running > 1 - lam
    return out


@given(st.lists(st.floats(0.001, 1.0), min_size=4, max_size=49, unique=True), st.floats(0.05, 1.0))
@settings(max_examples=60, deadline=None)
def test_foreground_follows_dinos_rule_and_holds_lambda_of_the_mass(values: list[float], lam: float) -> None:
    s = torch.tensor([values], dtype=torch.float64)
    fg = foreground(s, lam)[0]
    assert fg.tolist() == _reference_foreground(values, lam)
    assert float(s[0][fg].sum() / s.sum()) >= lam - 1e-9


def test_lambda_outside_range_is_refused() -> None:
    import pytest

    for lam in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="lambda"):
            foreground(torch.ones(1, 4), lam)


@given(st.integers(0, 2**31 - 1), st.lists(st.floats(0.05, 1.0), min_size=2, max_size=5))
@settings(max_examples=30, deadline=None)
def test_a_larger_lambda_never_shrinks_the_foreground(seed: int, lambdas: list[float]) -> None:
    s = torch.rand(3, 49, generator=torch.Generator().manual_seed(seed))
    masks = [foreground(s, lam) for lam in sorted(lambdas)]
    for small, large in itertools.pairwise(masks):
        assert bool((small <= large).all())
