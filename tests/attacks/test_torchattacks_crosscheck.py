"""lkadv's PGD against torchattacks' PGD and PGDL2, independent implementations, on the mini zoo."""

import pytest
import torch

from lkadv.attacks import PGD
from lkadv.datasets._fashion_mnist import load_fashion_mnist
from lkadv.models import build_classifier
from lkadv.zoo import ZOO

torchattacks = pytest.importorskip("torchattacks", reason="install with: pip install --no-deps torchattacks==3.5.1")

N = 250
EPS = {"linf": 2 / 255, "l2": 0.5}


@pytest.fixture(scope="module")
def data():
    images, labels = load_fashion_mnist("test")
    idx = torch.arange(0, 10000, 10000 // N)[:N]
    return torch.from_numpy(images[idx.numpy()]).float().div(255)[:, None], torch.from_numpy(labels[idx.numpy()])


@pytest.mark.parametrize("name", [e.name for e in ZOO])
def test_pgd_matches_torchattacks_within_one_point(host, data, name):
    x, y = data
    clf, _ = build_classifier(host.registries.models.get(name))
    for norm, eps in EPS.items():
        alpha = eps / 4
        cls = torchattacks.PGD if norm == "linf" else torchattacks.PGDL2
        theirs = cls(clf, eps=eps, alpha=alpha, steps=10, random_start=False)(x, y)
        # Same steps and step size, random start and early stop off (the spine's acceptance setting).
        ours = PGD(norm=norm, steps=10, rel_step=0.25, random_start=False, early_stop=False)(
            clf, x, y, eps, torch.Generator().manual_seed(0)
        )
        with torch.no_grad():
            acc_theirs = float((clf(theirs).argmax(1) == y).float().mean())
            acc_ours = float((clf(ours).argmax(1) == y).float().mean())
        assert abs(acc_ours - acc_theirs) <= 0.01, (norm, acc_ours, acc_theirs)
