"""TAIG against closed forms, completeness, and an independent reimplementation of the paper's equations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lkadv.attacks import TAIG, integrated_gradient, path_points
from lkadv.models import build_classifier
from lkadv.plugins import PluginHost

_HOST = PluginHost(entry_points=False)


def _zoo(name: str) -> nn.Module:
    clf, _ = build_classifier(_HOST.registries.models.get(name))
    return clf


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    return _zoo("fm-resnet")


def _images(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    from lkadv.datasets import load_fashion_mnist

    images, labels = load_fashion_mnist("test")
    pick = np.random.default_rng(seed).choice(len(labels), n, replace=False)
    return torch.from_numpy(images[pick]).float().div(255)[:, None], torch.from_numpy(labels[pick])


class Linear(nn.Module):
    """Logits = W flatten(x): the IG of class c is exactly (x - 0) * W_c."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1) @ self.w.t()


def test_linear_closed_form_ig_and_step_sign() -> None:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(3, 1 * 4 * 4, generator=g, dtype=torch.float64)
    model = Linear(w).double()
    x = torch.rand(5, 1, 4, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 0, 1])
    segs = path_points(x, variant="s", path_steps=7, turning_points=1, tau=0.0, generator=g)
    ig, passes = integrated_gradient(model, segs, y)
    assert passes == 8
    torch.testing.assert_close(ig, x * w[y].reshape(5, 1, 4, 4), rtol=0, atol=1e-12)
    # TAIG-R on a linear model: every piecewise path integrates to the same exact IG
    segs = path_points(x, variant="r", path_steps=20, turning_points=5, tau=0.3, generator=g)
    torch.testing.assert_close(integrated_gradient(model, segs, y)[0], ig, rtol=0, atol=1e-12)
    # one step goes against the sign of the IG (the true logit falls), clipped to the ball
    eps = 1 / 255
    adv = TAIG(iterations=1, step_size=1 / 255)(model, x, y, eps, g)
    expected = (x - (1 / 255) * ig.sign()).clamp(x - eps, x + eps).clamp(0, 1)
    torch.testing.assert_close(adv, expected, rtol=0, atol=1e-12)
    assert (adv.flatten(1) @ w.t()).gather(1, y[:, None]).lt((x.flatten(1) @ w.t()).gather(1, y[:, None])).all()


@settings(max_examples=6, deadline=None)
@given(
    index=st.integers(0, 9999),
    contrast=st.floats(0.3, 1.0),
    seed=st.integers(0, 2**16),
    variant=st.sampled_from(["s", "r"]),
)
def test_completeness_on_a_zoo_model(resnet: nn.Module, index: int, contrast: float, seed: int, variant: str) -> None:
    # The IG sums to f(x) - f(black) up to the Riemann error, which shrinks as the steps grow.
    from lkadv.datasets import load_fashion_mnist

    images, labels = load_fashion_mnist("test")
    x = torch.from_numpy(images[index : index + 1]).float().div(255)[:, None] * contrast
    y = torch.from_numpy(labels[index : index + 1])
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        gap = (resnet(x) - resnet(torch.zeros_like(x))).gather(1, y[:, None]).squeeze(1)
    errors = []
    for steps in (8, 128):
        segs = path_points(x, variant=variant, path_steps=steps, turning_points=4, tau=0.02, generator=g)
        ig = integrated_gradient(resnet, segs, y)[0]
        errors.append(float((ig.flatten(1).sum(1) - gap).abs()))
    # A left Riemann sum converges at first order: 16x the steps leave at most 1/8 of the error (2x slack),
    # or an error small against the logit gap. A wrong IG (no (x - baseline) factor, a wrong path) does not.
    assert errors[1] <= max(errors[0] / 8, 0.1 * float(gap.abs())) + 0.05, (errors, gap)


# ---- an independent implementation, written from the paper's equations (one image at a time, float64)


def _ref_grad(model: nn.Module, point: np.ndarray, label: int) -> np.ndarray:
    t = torch.tensor(point[None], dtype=torch.float32, requires_grad=True)
    model(t)[0, label].backward()
    return t.grad[0].double().numpy()


def _ref_ig(model: nn.Module, x: np.ndarray, label: int, corners: list[np.ndarray], m: int) -> np.ndarray:
    """Eq. (IG along a piecewise-linear path): sum_j (c_j - c_{j-1}) * mean_k grad f(c_{j-1} + k/m (c_j - c_{j-1}))."""
    total = np.zeros_like(x)
    for a, b in itertools.pairwise(corners):
        grads = [_ref_grad(model, a + (k / m) * (b - a), label) for k in range(m + 1)]
        total += (b - a) * np.mean(grads, axis=0)
    return total


def _ref_taig(model, x, label, eps, iters, steps, variant, noise, turns=1):
    x0 = x.astype(np.float64)
    adv = x0.copy()
    for _ in range(iters):
        if variant == "s":
            ig = _ref_ig(model, adv, label, [np.zeros_like(adv), adv], steps)
        elif variant == "r":  # turning points (e/E) x + v_e between the black image and x
            corners = [np.zeros_like(adv)] + [adv * (e / turns) + noise.pop(0) for e in range(1, turns)] + [adv]
            ig = _ref_ig(model, adv, label, corners, max(1, steps // turns))
        else:  # the study's approximation: each point of the straight line moved by its own noise draw
            pts = [adv * (i / steps) + noise.pop(0) for i in range(steps + 1)]
            mean = np.mean([_ref_grad(model, p, label) for p in pts], axis=0)
            ig = (pts[-1] - pts[0]) * mean
        adv = np.clip(np.clip(adv - (1 / 255) * np.sign(ig), x0 - eps, x0 + eps), 0, 1)
    return adv


@pytest.mark.parametrize("variant", ["s", "r", "r-approx"])
def test_same_examples_as_the_reference(resnet: nn.Module, variant: str) -> None:
    x, y = _images(3, 1)
    eps, iters, steps, turns = 3 / 255, 4, 6, 3  # the 4th step meets the projection
    gen = torch.Generator().manual_seed(7)
    attack = TAIG(variant=variant, iterations=iters, path_steps=steps, turning_points=turns)
    ours = attack(resnet, x, y, eps, gen)
    # replay our generator's draws for the reference: per iteration, one batch-shaped draw per noisy point
    per_iteration = {"s": 0, "r": turns - 1, "r-approx": steps + 1}[variant]
    replay = torch.Generator().manual_seed(7)
    draws = [
        [(torch.rand(x.shape, generator=replay) * (2 * eps) - eps).double().numpy() for _ in range(per_iteration)]
        for _ in range(iters)
    ]
    for i in range(len(x)):
        noise = [d[j][i] for d in draws for j in range(per_iteration)]
        ref = _ref_taig(resnet, x[i].double().numpy(), int(y[i]), eps, iters, steps, variant, noise, turns)
        diff = np.abs(ours[i].double().numpy() - ref)
        # sign steps: equal except where a gradient is within float noise of zero
        assert (diff > 1e-6).mean() < 0.01, (i, (diff > 1e-6).mean())


def test_taig_fools_and_counts_passes(resnet: nn.Module) -> None:
    x, y = _images(16, 2)
    attack = TAIG(iterations=4, path_steps=4)
    adv = attack(resnet, x, y, 4 / 255, torch.Generator().manual_seed(0))
    assert attack.passes == 4 * 5
    assert (adv - x).abs().max() <= 4 / 255 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    with torch.no_grad():
        assert (resnet(adv).argmax(1) == y).sum() < (resnet(x).argmax(1) == y).sum()


def test_unreachable_eps_warns(resnet: nn.Module) -> None:
    x, y = _images(2, 3)
    with pytest.warns(UserWarning, match="reach at most 2/255"):
        TAIG(iterations=2, path_steps=1)(resnet, x, y, 8 / 255, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("variant", ["s", "r", "r-approx"])
def test_taig_passes_the_attack_conformance_kit(variant: str) -> None:
    from lkadv.testing import check_attack

    spec = _HOST.registries.attacks.get("taig")
    params = {"variant": variant, "iterations": 3, "path_steps": 2, "turning_points": 2, "step_size": 0.5}
    results = check_attack(spec, params=params)
    assert set(results.values()) == {"ok"}, results
