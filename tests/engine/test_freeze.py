"""Attacks differentiate with respect to the input only: parameter flags are off during, restored after."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lkadv.attacks import FGSM, PGD
from lkadv.engine import input_gradients_only


def _net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3))
    net[1].bias.requires_grad_(False)  # a flag that was already off stays off
    return net


def _flags(net: nn.Module) -> list[bool]:
    return [p.requires_grad for p in net.parameters()]


def test_flags_are_off_inside_and_restored_exactly():
    net = _net()
    before = _flags(net)
    with input_gradients_only(net):
        assert not any(_flags(net))
        with input_gradients_only(net):
            assert not any(_flags(net))
        assert not any(_flags(net))
    assert _flags(net) == before == [True, False, True, True]


def test_flags_are_restored_when_the_attack_raises():
    net = _net()
    before = _flags(net)
    with pytest.raises(RuntimeError), input_gradients_only(net):
        raise RuntimeError("attack failed")
    assert _flags(net) == before


def test_plain_callables_pass_through():
    with input_gradients_only(lambda x: x):
        pass


@pytest.mark.parametrize("attack", [PGD(steps=3), FGSM()], ids=["pgd", "fgsm"])
def test_attacks_see_frozen_parameters_and_give_the_same_result(attack):
    net = _net()
    seen: list[bool] = []

    class Spy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(any(p.requires_grad for p in self.net.parameters()))
            return self.net(x)

    x = torch.rand(6, 1, 3, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    spy = Spy()
    before = _flags(net)
    frozen = attack(spy, x, y, 0.1, torch.Generator().manual_seed(0))
    assert seen and not any(seen)
    assert _flags(net) == before

    # Freezing changes nothing but speed: a hand-rolled reference with the flags on agrees.
    class Unfrozen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for p in self.net.parameters():
                p.requires_grad_(True)
            return self.net(x)

    reference = attack(Unfrozen(), x, y, 0.1, torch.Generator().manual_seed(0))
    for p, flag in zip(net.parameters(), before, strict=True):
        p.requires_grad_(flag)
    torch.testing.assert_close(frozen, reference)
