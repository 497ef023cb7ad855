"""A tiny, fast plugin for end-to-end tests: a synthetic dataset, two models, a cheating attack.

Load it with ``PluginHost(extra=[("toy", toy_plugin)])`` or ``lkadv -p tests.toy_plugin``.
"""

from __future__ import annotations

import numpy as np
import torch

from lkadv import AttackSpec, DatasetSpec, ModelSpec, hookimpl
from lkadv.datasets import ArrayImageSet
from tests.conftest import TinyNet


def load_toy(root, preprocessing):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(400, 8, 8), dtype=np.uint8)
    labels = np.arange(400) % 4
    # Make the classes learnable-ish: brighten a class-specific quadrant.
    for c in range(4):
        r, q = divmod(c, 2)
        images[labels == c, 4 * r : 4 * r + 4, 4 * q : 4 * q + 4] = 255
    return ArrayImageSet(images, labels, [f"toy/{i}" for i in range(400)], preprocessing)


def load_toy10(root, preprocessing):
    # Ten classes (AutoAttack's reference ensemble needs them): a bright cell of a 2x5 grid per class.
    rng = np.random.default_rng(1)
    images = rng.integers(0, 160, size=(200, 8, 8), dtype=np.uint8)
    labels = np.arange(200) % 10
    for c in range(10):
        r, q = divmod(c, 5)
        images[labels == c, 4 * r : 4 * r + 4, q : q + 2] = 255
    return ArrayImageSet(images, labels, [f"toy10/{i}" for i in range(200)], preprocessing)


class Toy10Net(torch.nn.Module):
    """Templates of the ten class cells, plus a small random non-linear part."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        masks = torch.zeros(10, 8, 8)
        for c in range(10):
            r, q = divmod(c, 5)
            masks[c, 4 * r : 4 * r + 4, q : q + 2] = 1
        self.linear = torch.nn.Linear(64, 10)
        self.hidden = torch.nn.Linear(64, 16)
        self.out = torch.nn.Linear(16, 10)
        with torch.no_grad():
            self.linear.weight.copy_(2 * (masks - masks.mean(0)).flatten(1))
            self.linear.bias.zero_()
            for p in (*self.hidden.parameters(), *self.out.parameters()):
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return self.linear(flat) + self.out(torch.tanh(self.hidden(flat)))


def toy10_model(seed: int) -> torch.nn.Module:
    return Toy10Net(seed)


def toy_model(seed: int) -> torch.nn.Module:
    net = TinyNet(classes=4, seed=seed)
    with torch.no_grad():  # a readable signal: quadrant brightness
        net.fc.weight.mul_(0.1)
    return net


def cheating_attack(norm: str = "linf"):
    def attack(classifier, x, y, eps, generator):
        return (x + 2 * eps).clamp(0, 1)

    return attack


@hookimpl
def lkadv_register_datasets(registry):
    registry.register(
        DatasetSpec(
            name="toy",
            label_space="toy",
            num_classes=4,
            loader=load_toy,
            shipped=True,
            default_limit=None,
            default_eps={"linf": (0.01, 0.03, 0.1)},
            default_batch_size=64,
        )
    )
    registry.register(
        DatasetSpec(
            name="toy10",
            label_space="toy10",
            num_classes=10,
            loader=load_toy10,
            shipped=True,
            default_limit=None,
            default_eps={"linf": (0.25, 0.3)},
            default_batch_size=64,
        )
    )


@hookimpl
def lkadv_register_models(registry):
    for seed in (0, 1):
        registry.register(
            ModelSpec(
                name=f"toy-{seed}",
                family="tiny",
                factory=toy_model,
                factory_kwargs={"seed": seed},
                label_space="toy",
                num_classes=4,
                input_size=(1, 8, 8),
                mean=(0.5,),
                std=(0.25,),
                tags=frozenset({"toy"}),
            )
        )
    registry.register(
        ModelSpec(
            name="toy10-0",
            family="tiny",
            factory=toy10_model,
            factory_kwargs={"seed": 3},
            label_space="toy10",
            num_classes=10,
            input_size=(1, 8, 8),
            mean=(0.5,),
            std=(0.25,),
            tags=frozenset({"toy10"}),
        )
    )


@hookimpl
def lkadv_register_attacks(registry):
    registry.register(
        AttackSpec(name="cheat", norms=("linf",), factory=cheating_attack, description="exceeds eps on purpose")
    )
