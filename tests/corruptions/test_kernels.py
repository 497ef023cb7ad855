"""Kernels, borders, colour conversion and the glass-blur waves against independent references."""

import numpy as np
import pytest
import torch
from scipy import ndimage

from lkadv.corruptions import get_corruption
from lkadv.corruptions._blur import _glass_waves, glass_permutation
from lkadv.corruptions._color import hsv_to_rgb, rgb_to_hsv
from lkadv.corruptions._kernels import filter2d, gaussian_blur, pad_index

NUMPY_MODE = {"replicate": "edge", "reflect101": "reflect", "symmetric": "symmetric", "wrap": "wrap"}


@pytest.mark.parametrize("mode", list(NUMPY_MODE))
@pytest.mark.parametrize(("n", "before", "after"), [(5, 2, 3), (4, 9, 11), (1, 2, 2)])
def test_pad_index_matches_numpy(mode, n, before, after):
    expected = np.pad(np.arange(n), (before, after), mode=NUMPY_MODE[mode])
    assert pad_index(n, before, after, mode).tolist() == expected.tolist()


@pytest.mark.parametrize(("mode", "scipy_mode"), [("replicate", "nearest"), ("symmetric", "reflect")])
@pytest.mark.parametrize("sigma", [0.4, 1.5, 6.0])
def test_gaussian_blur_matches_scipy(mode, scipy_mode, sigma):
    x = torch.rand(2, 3, 30, 17, dtype=torch.float64)
    ours = gaussian_blur(x, sigma, mode)
    ref = ndimage.gaussian_filter(x.numpy(), sigma=(0, 0, sigma, sigma), mode=scipy_mode, truncate=4.0)
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-12)


@pytest.mark.parametrize("size", [3, 15])  # direct convolution and FFT paths
def test_filter2d_matches_scipy_correlate(size):
    x = torch.rand(2, 3, 24, 20, dtype=torch.float64)
    k = torch.rand(size, size, dtype=torch.float64)
    ours = filter2d(x, k, "reflect101")
    ref = ndimage.correlate(x.numpy(), k.numpy()[None, None], mode="mirror")
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-9)
    per_image = filter2d(x, torch.stack([k, 2 * k]), "replicate")
    ref2 = ndimage.correlate(x[1:].numpy(), 2 * k.numpy()[None, None], mode="nearest")
    np.testing.assert_allclose(per_image[1:].numpy(), ref2, atol=1e-9)


def test_hsv_round_trip_and_known_values():
    x = torch.rand(3, 3, 9, 9, dtype=torch.float64)
    torch.testing.assert_close(hsv_to_rgb(rgb_to_hsv(x)), x)
    pure = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5], dtype=torch.float64).view(3, 3).T
    hsv = rgb_to_hsv(pure.reshape(1, 3, 3, 1))[0, :, :, 0].T
    torch.testing.assert_close(hsv[0], torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(hsv[1], torch.tensor([1 / 3, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(hsv[2], torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64))


@pytest.mark.parametrize("d", [1, 2, 4])
def test_glass_waves_equal_the_sequential_loop(d):
    """Running the waves gives exactly the reference's visit order on the same draws."""
    h, w = 23, 19
    perm = glass_permutation(1, h, w, d, 1, torch.Generator().manual_seed(5), torch.device("cpu"))[0]
    positions, _ = _glass_waves(h, w, d)
    code = torch.randint(0, 4 * d * d, (len(positions), 1), generator=torch.Generator().manual_seed(5))[:, 0]
    offset_of = {int(p): (int(c) // (2 * d) - d, int(c) % (2 * d) - d) for p, c in zip(positions, code, strict=True)}
    source = list(range(h * w))
    for hh in range(h - d, d, -1):  # the reference's loop, one step at a time
        for ww in range(w - d, d, -1):
            dy, dx = offset_of[hh * w + ww]
            source[hh * w + ww] = source[(hh + dy) * w + ww + dx]
    assert perm.tolist() == source


def test_glass_waves_are_few_at_224():
    positions, waves = _glass_waves(224, 224, 4)
    assert len(positions) == 216 * 216 and len(waves) < len(positions) / 20


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_closed_form_brightness_and_saturate_equal_the_hsv_round_trip(severity):
    from lkadv.corruptions._params import param

    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    x[0, :, :4] = x[0, :1, :4]  # grey pixels
    x[1, :, :2] = 0  # black pixels
    c = param("brightness", severity)
    hsv = rgb_to_hsv(x)
    hsv[:, 2] = (hsv[:, 2] + c).clamp(0, 1)
    ours = get_corruption("brightness")(x, severity, torch.Generator())
    torch.testing.assert_close(ours, hsv_to_rgb(hsv).clamp(0, 1))
    a, b = param("saturate", severity)
    hsv = rgb_to_hsv(x)
    hsv[:, 1] = (hsv[:, 1] * a + b).clamp(0, 1)
    ours = get_corruption("saturate")(x, severity, torch.Generator())
    torch.testing.assert_close(ours, hsv_to_rgb(hsv).clamp(0, 1))
