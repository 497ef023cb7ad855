"""Kernels, borders, colour conversion, resampling rules and the glass-blur waves against independent references."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage

from lkadv.corruptions import get_corruption
from lkadv.corruptions._blur import _glass_waves, glass_permutation
from lkadv.corruptions._color import as_rgb, hsv_to_rgb, rgb_to_hsv
from lkadv.corruptions._digital import _box_matrix, _nearest_index, elastic_warp
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


sizes = st.integers(1, 600)


@settings(max_examples=300, deadline=None)
@given(n_in=sizes, n_out=sizes)
@example(n_in=80, n_out=200)  # pixelate at severity 3 of 200 columns: 28 indices differ from floor((j + .5) * s)
@example(n_in=64, n_out=160)
def test_nearest_index_is_pillows(n_in, n_out):
    """The source index of every output sample, read off Pillow's NEAREST resize of an image of indices."""
    indices = Image.fromarray(np.tile(np.arange(n_in, dtype=np.int32), (2, 1)))  # mode I
    pil = np.asarray(indices.resize((n_out, 2), Image.Resampling.NEAREST))[0]
    assert _nearest_index(n_in, n_out).tolist() == pil.tolist()
    # Rows take the same rule: the transposed image gives the same indices.
    pil_rows = np.asarray(indices.transpose(Image.Transpose.TRANSPOSE).resize((2, n_out), Image.Resampling.NEAREST))
    assert pil_rows[:, 0].tolist() == pil.tolist()


@settings(max_examples=100, deadline=None)
@given(n_in=sizes, n_out=sizes)
@example(n_in=200, n_out=80)
@example(n_in=160, n_out=64)
def test_box_matrix_is_pillows(n_in, n_out):
    """The weights of every output sample, read off Pillow's BOX resize of an identity image (mode F, no rounding)."""
    eye = Image.fromarray(np.eye(n_in, dtype=np.float32))  # row i: the response to a one at i
    pil = np.asarray(eye.resize((n_out, n_in), Image.Resampling.BOX)).T
    np.testing.assert_allclose(_box_matrix(n_in, n_out).numpy(), pil, atol=1e-6)


def test_elastic_warp_samples_outside_the_image_as_scipys_reflect():
    """The reference warps with map_coordinates(order=1, mode="reflect"): mirrored about the outer pixel edges."""
    g = torch.Generator().manual_seed(0)
    h, w = 13, 17
    x = torch.rand(1, 3, h, w, generator=g, dtype=torch.float64)
    # Displacements up to 3 image sizes: most samples land outside, some several periods out.
    dy = (torch.rand(1, h, w, generator=g, dtype=torch.float64) - 0.5) * 6 * h
    dx = (torch.rand(1, h, w, generator=g, dtype=torch.float64) - 0.5) * 6 * w
    dy[0, 0, :5] = torch.tensor([-0.5, -0.25, -1.0, -1.5, float(h) - 0.5])  # on and near the mirror lines
    ours = elastic_warp(x, dy, dx)
    rows = np.arange(h)[:, None] + dy[0].numpy()
    cols = np.arange(w)[None, :] + dx[0].numpy()
    for c in range(3):
        ref = ndimage.map_coordinates(x[0, c].numpy(), [rows, cols], order=1, mode="reflect")
        np.testing.assert_allclose(ours[0, c].numpy(), ref, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from([torch.float32, torch.float64]))
def test_a_grey_pixel_left_alone_comes_back_exactly(seed, dtype):
    """1-channel colour corruptions return to grey with weights summing to 1 and no rounding on grey pixels."""
    g = torch.Generator().manual_seed(seed)
    eight_bit = torch.randint(0, 256, (2, 1, 7, 9), generator=g).to(dtype) / 255
    anything = torch.rand(2, 1, 7, 9, generator=g, dtype=dtype)
    for x in (eight_bit, anything):
        assert torch.equal(as_rgb(x, lambda rgb: rgb), x)
        # A colour change still comes back as the reference's luma (weights 0.2989, 0.5870, 0.1140, rescaled).
        tinted = as_rgb(x, lambda rgb: rgb * torch.tensor([1.0, 0.5, 0.25], dtype=dtype).view(1, 3, 1, 1))
        expected = x * (0.2989 + 0.5870 * 0.5 + 0.1140 * 0.25) / 0.9999
        torch.testing.assert_close(tinted, expected)
