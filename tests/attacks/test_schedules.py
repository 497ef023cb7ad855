"""APGD's adaptive step size against a fixed step, on a mini-zoo model."""

import itertools

import pytest
import torch

from lkadv.attacks import PGD
from lkadv.datasets._fashion_mnist import load_fashion_mnist
from lkadv.models import build_classifier


@pytest.fixture(scope="module")
def setup(host):
    images, labels = load_fashion_mnist("test")
    idx = torch.arange(0, 10000, 64)[:150].numpy()
    x = torch.from_numpy(images[idx]).float().div(255)[:, None]
    y = torch.from_numpy(labels[idx]).long()
    clf, _ = build_classifier(host.registries.models.get("fm-resnet"))
    return clf, x, y


@pytest.mark.parametrize(("norm", "eps"), [("linf", 4 / 255)])
def test_apgd_schedule_is_at_least_as_strong_as_a_fixed_step(setup, norm, eps):
    clf, x, y = setup
    runs = {}
    for schedule in ("fixed", "apgd"):
        x_adv = PGD(norm=norm, steps=10, loss="ce", schedule=schedule)(clf, x, y, eps, torch.Generator().manual_seed(0))
        with torch.no_grad():
            runs[schedule] = int((clf(x_adv).argmax(1) == y).sum())
    assert runs["apgd"] <= runs["fixed"], runs
    assert runs["fixed"] < len(y)  # the comparison is not vacuous


def test_apgd_checkpoints_follow_pyautoattack():
    from lkadv.attacks._pgd import _Checkpoints

    marks = []
    cp = _Checkpoints(100)
    for k in range(100):
        if cp.tick():
            marks.append(k + 1)
    # pyautoattack's integer checkpoints for 100 iterations: 22, then intervals shrinking by 3 down to 6.
    assert marks[:4] == [22, 41, 57, 70]
    assert all(b - a >= 6 for a, b in itertools.pairwise(marks))
