"""Invariants of every native attack under every norm it declares (hypothesis)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.attacks import FGSM, PGD, OnePixel, WorstOf
from lkadv.engine import EngineOptions, check_adversarial, perturbation_norm, use_engine
from lkadv.models import Classifier
from tests.conftest import TinyNet

ATTACKS = [
    ("fgsm", "linf"),
    ("fgsm", "l2"),
    ("pgd", "linf"),
    ("pgd", "l2"),
    ("pgd", "l1"),
    ("apgd", "linf"),
    ("apgd", "l2"),
    ("apgd", "l1"),
    ("pgd-cosine-dlr", "linf"),
    ("pgd-targeted", "linf"),
    ("pgd-targeted", "l2"),
    ("worst-of", "linf"),
    ("worst-of", "l2"),
    ("onepixel", "l0"),
]


def _make(name, norm, **kw):
    steps = kw.pop("steps", 5)
    if name == "fgsm":
        return FGSM(norm=norm)
    if name == "apgd":
        return PGD(norm=norm, steps=steps, schedule="apgd", loss="dlr" if norm != "l1" else "ce", **kw)
    if name == "pgd-cosine-dlr":
        return PGD(norm=norm, steps=steps, schedule="cosine", loss="dlr", **kw)
    if name == "pgd-targeted":
        return PGD(norm=norm, steps=steps, targeted="random", loss="margin", **kw)
    if name == "worst-of":
        members = [("fgsm", FGSM(norm=norm)), ("pgd", PGD(norm=norm, steps=steps, **kw))]
        return WorstOf(norm=norm, members=members)
    if name == "onepixel":
        return OnePixel(popsize=8, iterations=3)
    return PGD(norm=norm, steps=steps, **kw)


def _clf(seed):
    return Classifier(TinyNet(seed=seed), mean=(0.5,), std=(0.25,), num_classes=4)


def _scale(eps, norm):
    return {"l1": eps * 20, "l0": round(eps * 10)}.get(norm, eps)


@settings(max_examples=60, deadline=None)
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
    eps = _scale(eps, norm)
    attack = _make(name, norm, early_stop=early) if name.startswith(("pgd", "apgd")) else _make(name, norm)
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


@settings(max_examples=25, deadline=None)
@given(which=st.sampled_from(ATTACKS), seed=st.integers(0, 2**16), eps=st.floats(0.01, 0.3))
def test_same_seed_same_result(which, seed, eps):
    name, norm = which
    x = torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    y = torch.arange(6) % 4
    clf = _clf(1)
    eps = _scale(eps, norm)
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


@pytest.fixture
def one_lane():
    with use_engine(EngineOptions(cpu_lanes=1)):  # one forward pass per step, so a recorder sees the batch
        yield


def test_early_stop_compacts_the_batch_and_keeps_the_fooling_iterate(one_lane):
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


def _target_margin(clf, x, t):
    # Target logit minus the best other logit: > 0 means classified as the target.
    with torch.no_grad():
        z = clf(x)
    other = z.scatter(1, t[:, None], float("-inf")).amax(1)
    return z.gather(1, t[:, None]).squeeze(1) - other


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    norm=st.sampled_from(["linf", "l2"]),
    mode=st.sampled_from(["given", "random", "least-likely"]),
    loss=st.sampled_from(["ce", "margin"]),
    eps=st.floats(0.05, 0.5),
)
def test_targeted_attacks_move_toward_their_target(seed, norm, mode, loss, eps):
    clf = _clf(seed % 5)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(24, 1, 8, 8, generator=g)
    y = torch.randint(0, 4, (24,), generator=g)
    target = 2 if mode == "given" else None
    attack = PGD(norm=norm, steps=8, targeted=mode, target=target, loss=loss, random_start=False)
    # The targets the attack uses, drawn the same way from a twin generator.
    from lkadv.attacks._targets import choose_targets

    t = choose_targets(mode, target, clf, x, y, torch.Generator().manual_seed(seed + 1))
    x_adv = attack(clf, x, y, eps, torch.Generator().manual_seed(seed + 1))
    before, after = _target_margin(clf, x, t), _target_margin(clf, x_adv, t)
    moved = t != y
    assert torch.equal(x_adv[~moved], x[~moved])  # already of the target class: nothing to do
    reached_before = (before > 0) & moved
    assert bool((after[reached_before] > 0).all())  # a sample at its target stays there
    # Toward the target: never farther on average, and at least as many samples reach it.
    assert float(after[moved].mean()) >= float(before[moved].mean()) - 1e-6
    assert int((after[moved] > 0).sum()) >= int(reached_before.sum())


class _DoubleNet(torch.nn.Module):
    """TinyNet computed in float64: per-sample results do not depend on the batch's make-up."""

    def __init__(self, seed):
        super().__init__()
        self.net = TinyNet(seed=seed).double()

    def forward(self, x):
        return self.net(x.double())


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), norm=st.sampled_from(["linf", "l2", "l1"]), eps=st.floats(0.02, 0.4))
def test_worst_of_is_never_weaker_than_any_member(seed, norm, eps):
    clf = Classifier(_DoubleNet(seed % 7), mean=(0.5,), std=(0.25,), num_classes=4)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(32, 1, 8, 8, generator=g)
    y = clf(x).argmax(1)  # every sample correct when clean
    eps = eps * 20 if norm == "l1" else eps
    members = [
        ("pgd-margin", PGD(norm=norm, steps=3, loss="margin", random_start=False)),
        ("pgd-ce", PGD(norm=norm, steps=6, random_start=False, rel_step=0.1)),
        ("pgd-dlr", PGD(norm=norm, steps=4, loss="dlr", random_start=False, schedule="cosine")),
    ]
    if norm != "l1":
        members.insert(1, ("fgsm", FGSM(norm=norm)))
    worst = WorstOf(norm=norm, members=members)(clf, x, y, eps, torch.Generator().manual_seed(0))
    check_adversarial(x, worst, eps, norm, "worst-of")
    fooled_worst = clf(worst).argmax(1) != y
    for _, member in members:
        alone = member(clf, x, y, eps, torch.Generator().manual_seed(0))
        fooled_alone = clf(alone).argmax(1) != y
        assert bool((fooled_alone <= fooled_worst).all())  # per sample, not just on average


def test_one_pixel_finds_the_pixel_a_model_is_sensitive_to():
    # A model that flips to class 1 iff some pixel exceeds 0.95: one pixel always suffices.
    class Bright(torch.nn.Module):
        def forward(self, x):
            top = x.flatten(1).amax(1)
            return torch.stack([torch.zeros_like(top), 40 * (top - 0.95)], 1)

    clf = Classifier(Bright(), mean=(0.0,), std=(1.0,), num_classes=2)
    g = torch.Generator().manual_seed(0)
    x = 0.5 * torch.rand(10, 3, 6, 6, generator=g)
    y = torch.zeros(10, dtype=torch.long)
    x_adv = OnePixel(popsize=20, iterations=20)(clf, x, y, 1.0, g)
    check_adversarial(x, x_adv, 1.0, "l0", "onepixel")
    assert bool((perturbation_norm(x_adv - x, "l0") == 1).all())
    assert bool((clf(x_adv).argmax(1) == 1).all())
    assert torch.equal(OnePixel(popsize=20, iterations=20)(clf, x, y, 0.0, g), x)
