"""ERF of one convolution: exactly its support; area ratios against a count by hand."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lkadv.analyses import area_ratio, erf_contribution, erf_scale


def _conv(k: int) -> nn.Conv2d:
    conv = nn.Conv2d(1, 1, k, padding=k // 2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    return conv


@given(st.integers(1, 4), st.integers(0, 3), st.integers(0, 2**31 - 1))
@settings(max_examples=20, deadline=None)
def test_single_conv_covers_exactly_its_support(half: int, margin: int, seed: int) -> None:
    k, side = 2 * half + 1, 2 * half + 1 + 2 * (margin + 1)
    x = torch.rand(3, 1, side, side, generator=torch.Generator().manual_seed(seed)) + 0.1
    contribution = erf_contribution(_conv(k), x)
    c = side // 2
    support = torch.zeros(side, side, dtype=torch.bool)
    support[c - half : c + half + 1, c - half : c + half + 1] = True
    assert bool((contribution[support] == 3.0).all())  # weight 1, three images
    assert bool((contribution[~support] == 0).all())
    assert math.isclose(area_ratio(contribution, 0.99), k * k / (side * side))
    # Smallest odd centred square holding t of a uniform k x k block, counted by hand.
    for t in (0.2, 0.3, 0.5):
        s = next(s for s in range(1, k + 1, 2) if s * s >= t * k * k)
        assert math.isclose(area_ratio(contribution, t), s * s / (side * side))


def test_scaled_heat_map_is_log_over_max() -> None:
    m = torch.tensor([[0.0, 9.0], [99.0, 0.0]], dtype=torch.float64)
    assert torch.allclose(erf_scale(m), torch.tensor([[0.0, 0.5], [1.0, 0.0]], dtype=torch.float64))


@given(st.integers(0, 2**31 - 1), st.lists(st.floats(0.01, 1.0), min_size=2, max_size=6))
@settings(max_examples=30, deadline=None)
def test_area_ratio_grows_with_the_threshold(seed: int, thresholds: list[float]) -> None:
    m = torch.rand(9, 11, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    ratios = [area_ratio(m, t) for t in sorted(thresholds)]
    assert ratios == sorted(ratios)
    assert all(0 < r <= 1 for r in ratios)


def test_the_3x3_ablation_sees_exactly_its_theoretical_receptive_field() -> None:
    from lkadv.analyses import anatomy_of, as_maps
    from lkadv.models import build_classifier
    from lkadv.plugins import PluginHost

    # stem 3x3/2, depthwise 3x3 (jump 2), transition 3x3/2, depthwise 3x3 (jump 4): 3 + 2*2 + 2*2 + 2*4 = 19 px.
    spec = PluginHost(entry_points=False).registries.models.get("fm-replknet-k3")
    clf, _ = build_classifier(spec, channels_last=False)
    last = clf.network.get_submodule((anatomy_of(clf.network, spec.anatomy).features or ())[-1])
    seen: dict[str, torch.Tensor] = {}
    last.register_forward_hook(lambda _m, _a, out: seen.__setitem__("maps", as_maps(out)))

    def features(x: torch.Tensor) -> torch.Tensor:
        clf(x)
        return seen["maps"]

    contribution = erf_contribution(features, torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    rows, cols = (contribution > 0).nonzero().unbind(1)
    assert int(rows.max() - rows.min()) + 1 == 19 and int(cols.max() - cols.min()) + 1 == 19
