"""The attack view: a cached, BatchNorm-folded Classifier that attacks differentiate."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lkadv.attacks import FGSM, PGD
from lkadv.engine import EngineOptions, attack_view, use_engine
from lkadv.models import Classifier


def _bn_classifier(seed: int = 0) -> Classifier:
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1, bias=False),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(6 * 8 * 8, 4),
    )
    bn = net[1]
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    bn.weight.data.uniform_(0.5, 1.5)
    return Classifier(net, mean=[0.5], std=[0.25], num_classes=4)


def _data(n: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 4, (n,), generator=g)


def test_view_is_folded_cached_and_rebuilt_when_weights_change():
    clf = _bn_classifier()
    x, _ = _data()
    with attack_view(clf) as first:
        assert first is not clf and isinstance(first, Classifier)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in first.modules())
        assert not any(p.requires_grad for p in first.parameters())
        torch.testing.assert_close(first(x), clf(x), rtol=1e-5, atol=1e-5)
    with attack_view(clf) as second:
        assert second is first  # built once per model
    with torch.no_grad():
        clf.network[0].weight.mul_(-1)  # an in-place update must not leave a stale copy
    with attack_view(clf) as third:
        assert third is not first
        torch.testing.assert_close(third(x), clf(x), rtol=1e-5, atol=1e-5)
    clf.double()  # a cast swaps every tensor's storage: the copy must follow
    with attack_view(clf) as fourth:
        assert fourth is not third
        torch.testing.assert_close(fourth.network(x.double()), clf.network(x.double()))


def test_gradients_of_the_view_count_in_the_models_stats():
    clf = _bn_classifier()
    x, y = _data()
    clf.grad_stats.reset()
    FGSM()(clf, x, y, 0.1, torch.Generator().manual_seed(0))
    assert clf.grad_stats.rows == len(x)


def test_switch_off_and_models_without_batchnorm(monkeypatch):
    clf = _bn_classifier()
    with use_engine(EngineOptions(fold_bn=False)), attack_view(clf) as view:
        assert view is clf
    monkeypatch.setenv("LKADV_FOLD_BN", "0")  # the engine reads no environment: only its options count
    with attack_view(clf) as view:
        assert view is not clf
    plain = Classifier(nn.Sequential(nn.Flatten(), nn.Linear(64, 4)), mean=[0.5], std=[0.25], num_classes=4)
    with attack_view(plain) as view:
        assert view is plain
    bare = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).eval()
    with attack_view(bare) as view:
        assert view is bare  # not a Classifier: attacked as it is


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_attacks_through_the_view_match_attacks_on_the_model(norm):
    clf = _bn_classifier()
    x, y = _data(32)
    fgsm = FGSM(norm="l2")
    plain = EngineOptions(fold_bn=False)
    folded = fgsm(clf, x, y, 0.5, torch.Generator().manual_seed(0))
    with use_engine(plain):
        direct = fgsm(clf, x, y, 0.5, torch.Generator().manual_seed(0))
    torch.testing.assert_close(folded, direct, rtol=1e-4, atol=1e-4)  # L2 steps are continuous in the gradient

    pgd = PGD(norm=norm, steps=5, early_stop=False)
    eps = 0.1 if norm == "linf" else 0.5
    with use_engine(plain):
        direct = pgd(clf, x, y, eps, torch.Generator().manual_seed(0))
    folded = pgd(clf, x, y, eps, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(clf(folded).argmax(1) != y, clf(direct).argmax(1) != y)
    assert (folded - direct).abs().amax() <= 2 * eps  # both inside the same ball; usually identical
