"""lkadv-torchattacks, tested as a third party would: through its entry point and lkadv's attack contract."""

import importlib.metadata as md

import pytest
import torch

from lkadv.engine import check_adversarial, perturbation_norm
from lkadv.errors import ConfigError
from lkadv.models import Classifier
from lkadv.plugins import PluginHost
from lkadv_torchattacks import CATALOG
from lkadv_torchattacks import _plugin as plugin_module
from tests_support import FAST

torchattacks = pytest.importorskip("torchattacks", reason="pip install --no-deps torchattacks==3.5.1")

EPS = {"linf": 8 / 255, "l2": 0.5, "l0": 1.0}
# torchattacks' AutoAttack has no speed knobs: a radius where APGD breaks every sample keeps Square
# (5,000 queries) from running in the test.
EPS_FOR = {"ta-autoattack": {"linf": 0.5, "l2": 4.0}}


class Net(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.conv = torch.nn.Conv2d(channels, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 16, 4)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)

    def forward(self, x):
        return self.fc(torch.nn.functional.avg_pool2d(torch.relu(self.conv(x)), 2).flatten(1))


@pytest.fixture(scope="module")
def host():
    return PluginHost()  # entry points: the plugin must be installed (pip install -e plugins/lkadv-torchattacks)


def _data(channels, seed=0):
    # Normalization inside the Classifier, far from the identity: eps must still be in pixel units.
    clf = Classifier(Net(channels), mean=(0.3,) * channels, std=(0.2,) * channels, num_classes=4)
    x = torch.rand(6, channels, 8, 8, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        y = clf(x).argmax(1)
    return clf, x, y


def _attack(host, name, norm):
    spec = host.registries.attacks.get(name)
    config = spec.resolve({**FAST.get(name, {}), "norm": norm})
    return spec.factory(**config)


def test_the_entry_point_registers_the_whole_catalog(host):
    info = host.plugins["torchattacks"]
    assert info.status == "ok", info.errors
    assert info.registered["attacks"] == [e.name for e in CATALOG]
    assert info.version == md.version("lkadv-torchattacks")
    for entry in CATALOG:
        spec = host.registries.attacks.get(entry.name)
        assert spec.backend == "torchattacks" and spec.backend_version == torchattacks.__version__
        assert spec.describe()["default_config"]["backend"] == "torchattacks"


@pytest.mark.parametrize("entry", CATALOG, ids=lambda e: e.name)
@pytest.mark.parametrize("channels", [1, 3])
def test_every_attack_keeps_the_contract_and_is_seeded(host, entry, channels):
    clf, x, y = _data(channels)
    for norm in entry.norms:
        attack = _attack(host, entry.name, norm)
        eps = EPS_FOR.get(entry.name, EPS)[norm]
        x_in = x.clone()
        runs = []
        for global_seed in (1, 2):  # torch's global RNG must not matter, lkadv's generator must
            torch.manual_seed(global_seed)
            runs.append(attack(clf, x_in, y, eps, torch.Generator().manual_seed(7)))
        assert torch.equal(x_in, x)  # inputs untouched
        check_adversarial(x, runs[0], eps, norm, entry.name)  # the core's bound and range check
        assert torch.equal(runs[0], runs[1]), f"{entry.name} ({norm}) is not reproducible from lkadv's seed"


def test_pgd_is_torchattacks_pgd_on_pixel_units(host):
    clf, x, y = _data(3)
    ours = _attack(host, "ta-pgd", "linf")(clf, x, y, 8 / 255, torch.Generator().manual_seed(0))
    with torch.random.fork_rng():
        theirs_fn = torchattacks.PGD(clf, eps=8 / 255, alpha=2 / 255, steps=3, random_start=False)
        theirs = theirs_fn(x, y)
    spec = host.registries.attacks.get("ta-pgd")
    no_start = spec.factory(**spec.resolve({"steps": 3, "random_start": False}))
    torch.testing.assert_close(no_start(clf, x, y, 8 / 255, torch.Generator().manual_seed(0)), theirs)
    assert float(perturbation_norm(ours - x, "linf").max()) <= 8 / 255 + 1e-6


def test_minimum_norm_examples_beyond_eps_are_not_counted(host):
    clf, x, y = _data(3)
    for name in ("ta-cw", "ta-deepfool"):
        attack = _attack(host, name, "l2")
        free = attack(clf, x, y, 100.0, torch.Generator().manual_seed(0))  # unbounded in practice
        sizes = perturbation_norm(free - x, "l2")
        fooled = clf(free).argmax(1) != y
        assert bool(fooled.any()), name
        tight = float(sizes[fooled].min()) / 2  # below the smallest successful perturbation
        bounded = attack(clf, x, y, tight, torch.Generator().manual_seed(0))
        check_adversarial(x, bounded, tight, "l2", name)
        reverted = perturbation_norm(free - x, "l2") > tight
        assert torch.equal(bounded[reverted], x[reverted])  # the clean image, never a clipped example
        assert attack.reverted >= int(reverted.sum())


def test_one_pixel_changes_at_most_eps_pixels(host):
    clf, x, y = _data(3)
    out = _attack(host, "ta-onepixel", "l0")(clf, x, y, 2.0, torch.Generator().manual_seed(0))
    assert bool((perturbation_norm(out - x, "l0") <= 2).all())


def test_a_wrong_class_count_is_a_clear_error(host):
    clf, x, y = _data(3)
    spec = host.registries.attacks.get("ta-autoattack")
    attack = spec.factory(**spec.resolve({}))  # n_classes=10, the model has 4
    with pytest.raises(ConfigError, match=r"n_classes=10 but the model has 4 classes; set ta-autoattack.n_classes=4"):
        attack(clf, x, y, 8 / 255, torch.Generator().manual_seed(0))


def test_without_torchattacks_the_plugin_is_broken_with_the_install_command(monkeypatch):
    real = md.version

    def version(name):
        if name == "torchattacks":
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(plugin_module.md, "version", version)
    host = PluginHost(entry_points=False, extra=[("torchattacks", plugin_module)])
    info = host.plugins["torchattacks"]
    assert info.status == "broken"
    assert "pip install --no-deps torchattacks==3.5.1" in " ".join(info.errors)
    assert "ta-pgd" not in host.registries.attacks
