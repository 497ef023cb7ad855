"""The attack objectives against independent references (pyautoattack's DLR, closed forms)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lkadv.attacks._losses import attack_loss, check_classes, margin
from lkadv.errors import ConfigError

pyautoattack = pytest.importorskip("pyautoattack.autopgd_base")


def _logits(seed, n=16, k=10):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, k, generator=g) * 3, torch.randint(0, k, (n,), generator=g), g


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(4, 12))
def test_dlr_matches_pyautoattack(seed, k):
    z, y, g = _logits(seed, k=k)
    ref = pyautoattack.APGDAttack(lambda x: x, eps=0.1)
    torch.testing.assert_close(attack_loss("dlr")(z, y, None), ref.dlr_loss(z, y))
    t = (y + 1 + torch.randint(0, k - 1, y.shape, generator=g)) % k
    targeted = pyautoattack.APGDAttack_targeted(lambda x: x, eps=0.1)
    targeted.y_target = t
    torch.testing.assert_close(attack_loss("dlr")(z, y, t), targeted.dlr_loss_targeted(z, y))


def test_ce_and_margin_closed_forms():
    z = torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]])
    y = torch.tensor([0, 0])
    t = torch.tensor([2, 2])
    torch.testing.assert_close(margin(z, y), torch.tensor([1.5, -3.0]))
    torch.testing.assert_close(attack_loss("margin")(z, y, None), torch.tensor([-1.5, 3.0]))
    torch.testing.assert_close(attack_loss("margin")(z, y, t), torch.tensor([-3.0, -2.0]))
    lse = torch.logsumexp(z, 1)
    torch.testing.assert_close(attack_loss("ce")(z, y, None), lse - z[:, 0])
    torch.testing.assert_close(attack_loss("ce")(z, y, t), -(lse - z[:, 2]))


def test_losses_are_fp32_and_need_enough_classes():
    z = torch.randn(4, 5, dtype=torch.float16)
    assert attack_loss("dlr")(z, torch.zeros(4, dtype=torch.long), None).dtype == torch.float32
    check_classes("dlr", 3, targeted=False)
    with pytest.raises(ConfigError, match="targeted DLR loss needs at least 4 classes"):
        check_classes("dlr", 3, targeted=True)
    with pytest.raises(ConfigError, match="unknown attack loss"):
        attack_loss("hinge")
