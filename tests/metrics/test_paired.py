import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from lkadv.metrics import mcnemar_exact, paired_test


@given(only_a=st.integers(0, 400), only_b=st.integers(0, 400))
def test_mcnemar_matches_scipy_exact_binomial_test(only_a, only_b):
    n = only_a + only_b
    ref = 1.0 if n == 0 else binomtest(only_a, n, 0.5, alternative="two-sided").pvalue
    assert mcnemar_exact(only_a, only_b) == pytest.approx(ref, rel=1e-9, abs=1e-300)


def test_mcnemar_closed_forms():
    # Only 1 vs 0 discordant samples: P = 2 * (1/2) = 1; 0 vs 5: 2 / 32.
    assert mcnemar_exact(1, 0) == 1.0
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    # Equal counts can never be significant.
    assert mcnemar_exact(50, 50) == 1.0
    # Large counts stay finite and tiny, without overflowing.
    p = mcnemar_exact(0, 20_000)
    assert 0 < p < 1e-300 or p == 0.0
    assert math.isfinite(mcnemar_exact(9_000, 11_000))


def test_mcnemar_rejects_negative_counts():
    with pytest.raises(ValueError, match="discordant counts must be >= 0"):
        mcnemar_exact(-1, 3)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=0, max_size=200))
def test_paired_table_adds_up_and_is_symmetric(pairs):
    a = np.array([p[0] for p in pairs], dtype=bool)
    b = np.array([p[1] for p in pairs], dtype=bool)
    t = paired_test(a, b)
    assert t.both + t.only_a + t.only_b + t.neither == t.n == len(pairs)
    assert t.both + t.only_a == int(a.sum()) and t.both + t.only_b == int(b.sum())
    swapped = paired_test(b, a)
    assert (swapped.only_a, swapped.only_b) == (t.only_b, t.only_a)
    assert swapped.p_value == pytest.approx(t.p_value)
    if t.n:
        assert t.delta == pytest.approx(b.mean() - a.mean())


def test_paired_test_refuses_unaligned_samples():
    with pytest.raises(ValueError, match="needs the same samples"):
        paired_test([True, False], [True])
