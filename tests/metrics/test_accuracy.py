import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from lkadv.metrics import accuracy, wilson_interval


@given(n=st.integers(1, 5000), frac=st.floats(0, 1))
def test_wilson_matches_scipy(n, frac):
    k = round(frac * n)
    low, high = wilson_interval(k, n)
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ref.low, abs=1e-9)
    assert high == pytest.approx(ref.high, abs=1e-9)


def test_accuracy():
    est = accuracy(np.array([True, False, True, True]))
    assert est.value == 0.75 and est.k == 3 and est.n == 4 and est.low < 0.75 < est.high
    empty = accuracy([])
    assert empty.n == 0 and math.isnan(empty.value)
