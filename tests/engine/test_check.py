import pytest
import torch

from lkadv.engine import check_adversarial, perturbation_norm, project
from lkadv.errors import AttackContractError


def test_accepts_inside_and_float_slack():
    x = torch.full((2, 1, 4, 4), 0.5)
    check_adversarial(x, x + 0.1, 0.1, "linf", "a")
    check_adversarial(x, x + 0.1 + 5e-7, 0.1, "linf", "a")


@pytest.mark.parametrize(
    ("x_adv", "norm", "message"),
    [
        (lambda x: x + 0.2, "linf", "exceeded its linf budget on 2 of 2"),
        (lambda x: x + 0.1, "l2", "exceeded its l2 budget"),
        (lambda x: x - 0.6, "linf", r"outside \[0, 1\]"),
        (lambda x: x * float("nan"), "linf", "NaN"),
        (lambda x: x[:1], "linf", "changed the batch shape"),
    ],
)
def test_rejects_violations(x_adv, norm, message):
    x = torch.full((2, 1, 4, 4), 0.5)
    with pytest.raises(AttackContractError, match=message):
        check_adversarial(x, x_adv(x), 0.1, norm, "a")


@pytest.mark.parametrize("norm", ["linf", "l2", "l1"])
def test_projection_lands_in_the_ball_and_keeps_inside_points(norm):
    g = torch.Generator().manual_seed(0)
    delta = torch.randn(16, 3, 5, 5, generator=g)
    out = project(delta, 0.7, norm)
    assert bool((perturbation_norm(out, norm) <= 0.7 * (1 + 1e-5)).all())
    small = delta * 1e-4
    torch.testing.assert_close(project(small, 0.7, norm), small)


def test_l1_projection_is_the_euclidean_projection():
    # Independent reference: a point of the L1 ball is the projection iff moving toward any
    # other point of the ball does not reduce the distance (check against random ball points).
    g = torch.Generator().manual_seed(1)
    v = torch.randn(1, 20, generator=g)
    p = project(v, 1.0, "l1")
    for _ in range(200):
        q = torch.randn(1, 20, generator=g)
        q = q / q.abs().sum() * torch.rand(1, generator=g)
        assert float((v - p).norm()) <= float((v - q).norm()) + 1e-6


def test_l0_counts_changed_pixels_over_all_channels():
    x = torch.full((2, 3, 4, 4), 0.5)
    x_adv = x.clone()
    x_adv[0, :, 1, 2] = 1.0  # one pixel, all three channels
    x_adv[1, 0, 0, 0] = 0.0  # one pixel, one channel
    x_adv[1, 2, 3, 3] = 0.9  # a second pixel
    assert perturbation_norm(x_adv - x, "l0").tolist() == [1.0, 2.0]
    check_adversarial(x, x_adv, 2, "l0", "a")
    with pytest.raises(AttackContractError, match="exceeded its l0 budget on 1 of 2"):
        check_adversarial(x, x_adv, 1, "l0", "a")


def test_l0_projection_keeps_the_largest_pixels():
    delta = torch.zeros(1, 2, 3, 3)
    delta[0, :, 0, 0] = 0.1
    delta[0, 0, 1, 1] = 0.5
    delta[0, 1, 2, 2] = -0.3
    out = project(delta, 2, "l0")
    assert perturbation_norm(out, "l0").tolist() == [2.0]
    assert float(out[0, 0, 1, 1]) == 0.5 and float(out[0, 1, 2, 2]) == pytest.approx(-0.3)
    assert float(out[0, 0, 0, 0]) == 0.0
