"""A ten-class toy benchmark (AutoAttack's reference ensemble needs ten classes): dataset ``toy10``, model ``toy10-0``.

Load it with ``PluginHost(extra=[("toy10", toy10_plugin)])``.
"""

from __future__ import annotations

import numpy as np
import torch

from lkadv import DatasetSpec, ModelSpec, hookimpl
from lkadv.datasets import ArrayImageSet


def _masks() -> torch.Tensor:
    masks = torch.zeros(10, 8, 8)
    for c in range(10):
        r, q = divmod(c, 5)
        masks[c, 4 * r : 4 * r + 4, q : q + 2] = 1
    return masks


def load_toy10(root, preprocessing):
    # A bright cell of a 2x5 grid per class, on noise.
    rng = np.random.default_rng(1)
    images = rng.integers(0, 160, size=(200, 8, 8), dtype=np.uint8)
    labels = np.arange(200) % 10
    masks = _masks().numpy().astype(bool)
    for c in range(10):
        images[labels == c] = np.where(masks[c], 255, images[labels == c])
    return ArrayImageSet(images, labels, [f"toy10/{i}" for i in range(200)], preprocessing)


class Toy10Net(torch.nn.Module):
    """Templates of the ten class cells, plus a small random non-linear part."""

    def __init__(self, seed: int = 3) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        masks = _masks()
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


@hookimpl
def lkadv_register_datasets(registry):
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
    registry.register(
        ModelSpec(
            name="toy10-0",
            family="tiny",
            factory=Toy10Net,
            label_space="toy10",
            num_classes=10,
            input_size=(1, 8, 8),
            mean=(0.5,),
            std=(0.25,),
        )
    )
