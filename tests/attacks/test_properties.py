"""Invariants of every native attack under every norm it declares (hypothesis)."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.attacks import FGSM, PGD, check_adversarial, perturbation_norm
from lkadv.models import Classifier
from tests.conftest import TinyNet

ATTACKS = [("fgsm", "linf"), ("fgsm", "l2"), ("pgd", "linf"), ("pgd", "l2"), ("pgd", "l1")]


def _make(name, norm, **kw):
    return (
        FGSM(norm=norm)
        if name == "fgsm"
        else PGD(norm=norm, steps=kw.get("steps", 5), **{k: v for k, v in kw.items() if k != "steps"})
    )


def _clf(seed):
    return Classifier(TinyNet(seed=seed), mean=(0.5,), std=(0.25,), num_classes=4)


@settings(max_examples=25, deadline=None)
@given(
    which=st.sampled_from(ATTACKS),
    eps=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**16),
    n=st.integers(1, 6),
    early=st.booleans(),
)
def test_bound_and_range_hold(which, eps, seed, n, early):
    name, norm = which
    clf = _clf(seed % 5)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g)
    y = torch.randint(0, 4, (n,), generator=g)
    if norm == "l1":
        eps = eps * 20
    attack = _make(name, norm, early_stop=early) if name == "pgd" else _make(name, norm)
    x_adv = attack(clf, x, y, eps, g)
    check_adversarial(x, x_adv, eps, norm, name)  # raises on any violation
    assert float(x_adv.min()) >= 0 and float(x_adv.max()) <= 1


@settings(max_examples=15, deadline=None)
@given(which=st.sampled_from(ATTACKS), seed=st.integers(0, 2**16))
def test_eps_zero_is_the_identity(which, seed):
    name, norm = which
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(5, 1, 8, 8, generator=g)
    y = torch.randint(0, 4, (5,), generator=g)
    clf = _clf(seed % 3)
    x_adv = _make(name, norm)(clf, x, y, 0.0, g)
    assert torch.equal(x_adv, x)
    assert torch.equal(clf(x_adv).argmax(1), clf(x).argmax(1))  # eps=0 gives clean accuracy


@settings(max_examples=15, deadline=None)
@given(which=st.sampled_from(ATTACKS), seed=st.integers(0, 2**16), eps=st.floats(0.01, 0.3))
def test_same_seed_same_result(which, seed, eps):
    name, norm = which
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    y = torch.arange(6) % 4
    clf = _clf(1)
    runs = [_make(name, norm)(clf, x, y, eps, torch.Generator().manual_seed(seed)) for _ in range(2)]
    assert torch.equal(runs[0], runs[1])


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    frac=st.floats(0.3, 1.7).filter(lambda f: abs(f - 1) > 0.02),
    norm=st.sampled_from(["linf", "l2"]),
    random_start=st.booleans(),
)
def test_linear_closed_form(seed, frac, norm, random_start):
    """On a 2-class linear model, x is fooled iff eps exceeds margin / ||w1 - w0||_dual."""
    if norm == "l2":
        random_start = False  # the L2 iterate reaches the optimum exactly only from x itself
    g = torch.Generator().manual_seed(seed)
    lin = torch.nn.Linear(16, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(2, 16, generator=g))
        lin.bias.zero_()
    net = torch.nn.Sequential(torch.nn.Flatten(), lin)
    clf = Classifier(net, mean=(0.0,), std=(1.0,), num_classes=2)
    x = 0.4 + 0.2 * torch.rand(1, 1, 4, 4, generator=g)
    y = clf(x).argmax(1)
    w = lin.weight[y.item()] - lin.weight[1 - y.item()]
    margin = float(w @ x.flatten())
    dual = float(w.abs().sum()) if norm == "linf" else float(w.norm())
    eps = min(frac * margin / dual, 0.099 if norm == "linf" else 0.099 * 4)  # keep away from the [0,1] box
    fooled_expected = eps > margin / dual
    x_adv = PGD(norm=norm, steps=12, random_start=random_start, early_stop=False)(clf, x, y, eps, g)
    fooled = bool(clf(x_adv).argmax(1) != y)
    assert fooled == fooled_expected


def test_fgsm_matches_the_analytic_gradient_sign():
    g = torch.Generator().manual_seed(3)
    lin = torch.nn.Linear(16, 3)
    net = torch.nn.Sequential(torch.nn.Flatten(), lin)
    clf = Classifier(net, mean=(0.0,), std=(1.0,), num_classes=3)
    x = 0.2 + 0.6 * torch.rand(4, 1, 4, 4, generator=g)
    y = torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        p = torch.softmax(lin(x.flatten(1)), 1)
        grad = (p - torch.nn.functional.one_hot(y, 3).float()) @ lin.weight  # d CE / d x
    eps = 0.05
    expected_inf = (x.flatten(1) + eps * grad.sign()).clamp(0, 1).view_as(x)
    torch.testing.assert_close(FGSM(norm="linf")(clf, x, y, eps, g), expected_inf)
    expected_l2 = (x.flatten(1) + eps * grad / grad.norm(dim=1, keepdim=True)).clamp(0, 1).view_as(x)
    torch.testing.assert_close(FGSM(norm="l2")(clf, x, y, eps, g), expected_l2)
    assert float(perturbation_norm(expected_l2 - x, "l2").max()) <= eps + 1e-6


class _Recorder(torch.nn.Module):
    def __init__(self, clf):
        super().__init__()
        self.clf = clf
        self.sizes: list[int] = []

    def forward(self, x):
        self.sizes.append(len(x))
        return self.clf(x)


def test_early_stop_compacts_the_batch_and_keeps_the_fooling_iterate():
    clf = _clf(0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 1, 8, 8, generator=g)
    y = clf(x).argmax(1)
    y[:16] = (y[:16] + 1) % 4  # 16 samples already misclassified
    rec = _Recorder(clf)
    x_adv = PGD(steps=10, random_start=False, early_stop=True)(rec, x, y, 0.2, g)
    assert rec.sizes[0] == 64 and rec.sizes[1] <= 48
    assert rec.sizes == sorted(rec.sizes, reverse=True)
    assert torch.equal(x_adv[:16], x[:16])  # fooled from the start: never moved
    rec_full = _Recorder(clf)
    PGD(steps=10, random_start=False, early_stop=False)(rec_full, x, y, 0.2, g)
    assert rec_full.sizes == [64] * 10 and sum(rec.sizes) < sum(rec_full.sizes)


def test_restarts_are_never_weaker():
    clf = _clf(2)
    x = torch.rand(128, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    y = clf(x).argmax(1)
    one = PGD(steps=3, restarts=1)(clf, x, y, 0.08, torch.Generator().manual_seed(1))
    four = PGD(steps=3, restarts=4)(clf, x, y, 0.08, torch.Generator().manual_seed(1))
    fooled_one = clf(one).argmax(1) != y
    fooled_four = clf(four).argmax(1) != y
    assert bool((fooled_one <= fooled_four).all()) and fooled_four.sum() >= fooled_one.sum()
