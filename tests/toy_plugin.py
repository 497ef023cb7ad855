"""A tiny, fast plugin for end-to-end tests: a synthetic dataset, two models, a cheating attack.

Load it with ``PluginHost(extra=[("toy", toy_plugin)])`` or ``lkadv -p tests.toy_plugin``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

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


@hookimpl
def lkadv_register_attacks(registry):
    registry.register(
        AttackSpec(
            name="cheat",
            norms=("linf",),
            factory=cheating_attack,
            description="exceeds eps on purpose",
            backend="tests",
        )
    )


_finished = 0


@hookimpl
def lkadv_unit_finished(unit, outcome):
    """With ``LKADV_TOY_PAUSE_AFTER=N`` and ``LKADV_TOY_PAUSE_MARKER=PATH``: after N committed
    units, write the marker and wait for ever, so a test can kill the run at a known point."""
    global _finished
    _finished += 1
    after, marker = os.environ.get("LKADV_TOY_PAUSE_AFTER"), os.environ.get("LKADV_TOY_PAUSE_MARKER")
    if after is not None and marker and _finished == int(after):
        Path(marker).write_text(str(_finished))
        while True:
            time.sleep(1)
