"""Band-limited noise: all its spectral energy inside the square annulus, at the asked rms."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.analyses import band_mask, band_noise


@given(st.sampled_from([16, 28, 31, 32]), st.integers(0, 10), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_energy_is_confined_to_the_band(size: int, tenth: int, seed: int) -> None:
    f = tenth / 10
    noise = band_noise((3, 2, size, size), f, 0.05, 0.1, torch.Generator().manual_seed(seed))
    spectrum = torch.fft.fft2(noise.double()).abs() ** 2
    inside = band_mask(size, size, f, 0.05)
    total = float(spectrum.sum())
    if not bool(inside.any()):
        assert total == 0.0
        return
    assert float(spectrum[..., ~inside].sum()) <= 1e-9 * total
    rms = noise.double().pow(2).mean((1, 2, 3)).sqrt()
    assert torch.allclose(rms, torch.full_like(rms, 0.1), rtol=1e-5)


def test_band_mask_is_the_chebyshev_annulus() -> None:
    # Independent: frequencies in units of pi by hand, not through fftfreq.
    n = 20
    freq = [2 * min(k, n - k) / n for k in range(n)]
    mask = band_mask(n, n, 0.5, 0.05)
    for i in range(n):
        for j in range(n):
            radius = max(freq[i], freq[j])
            assert bool(mask[i, j]) == (0.45 <= radius <= 0.55), (i, j)


def test_noise_is_seeded() -> None:
    a = band_noise((2, 1, 28, 28), 0.3, 0.05, 0.1, torch.Generator().manual_seed(3))
    b = band_noise((2, 1, 28, 28), 0.3, 0.05, 0.1, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert math.isclose(float(a.double().pow(2).mean().sqrt()), 0.1, rel_tol=1e-5)
