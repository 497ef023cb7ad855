"""Feature-map variance: both definitions on constant and known tensors, tokens read as maps."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.analyses import as_maps, batch_mean_variance, per_sample_variance


def test_constant_maps_have_zero_variance() -> None:
    x = torch.full((4, 3, 5, 5), 2.5)
    assert per_sample_variance(x).tolist() == [0.0] * 4
    assert float(batch_mean_variance(x)) == 0.0


def test_opposite_samples_cancel_in_the_batch_mean_only() -> None:
    x = torch.randn(1, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    pair = torch.cat([x, -x])
    assert float(batch_mean_variance(pair)) == 0.0
    assert float(per_sample_variance(pair)[0]) > 0


@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 6), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_definitions_match_numpy(n: int, c: int, side: int, seed: int) -> None:
    x = torch.randn(n, c, side, side, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    a = x.numpy()
    per = a.reshape(n, c, -1).var(axis=2, ddof=1).mean(axis=1)
    batch = a.mean(axis=0).reshape(c, -1).var(axis=1, ddof=1).mean()
    assert np.allclose(per_sample_variance(x).numpy(), per)
    assert np.isclose(float(batch_mean_variance(x)), batch)


def test_tokens_lose_the_class_token_and_become_a_grid() -> None:
    tokens = torch.arange(2 * 50 * 3, dtype=torch.float32).reshape(2, 50, 3)
    maps = as_maps(tokens)
    assert maps.shape == (2, 3, 7, 7)
    assert torch.equal(maps[0, :, 0, 0], tokens[0, 1])
