"""Running a torchattacks attack behind lkadv's attack contract.

- Input: lkadv hands ``[0, 1]`` images and a Classifier that normalizes inside;
  torchattacks is given exactly that and never ``set_normalization_used``, so its
  eps and step sizes are in pixel units like lkadv's.
- Randomness: torchattacks draws from torch's (and scipy's, numpy's) global
  generators. The adapter draws one seed from lkadv's generator, seeds those
  inside ``fork_rng`` / saved numpy and ``random`` states, and restores them:
  the same lkadv seed gives the same examples, and nothing else is disturbed.
- Minimum-norm attacks (CW, DeepFool): an example beyond eps is replaced by
  the clean image (not fooled), never clipped.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from lkadv.engine import perturbation_norm
from lkadv.errors import ConfigError
from lkadv_torchattacks._catalog import Entry

__all__ = ["TorchAttack"]

_TA_NORM = {"linf": "Linf", "l2": "L2"}
# The core's own float slack for "inside the ball" (lkadv.engine.ABS_SLACK, REL_SLACK).
_REL, _ABS = 1e-5, 1e-6


@contextlib.contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    devices = [device] if device.type == "cuda" else []
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


class _Lift(nn.Module):
    """Presents grey images as 3 identical channels; the model sees their mean."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.mean(1, keepdim=True))


class TorchAttack:
    """An lkadv attack running one torchattacks attack.

    Args:
        entry: The catalog entry.
        norm: The threat's norm.
        **params: The entry's parameters (torchattacks' names).
    """

    def __init__(self, entry: Entry, *, norm: str, **params: Any) -> None:
        if norm not in entry.norms:
            raise ConfigError(f"{entry.name} supports norms {list(entry.norms)}, not {norm!r}")
        self.entry = entry
        self.norm = norm
        self.params = params
        self.reverted = 0  # min-norm examples beyond eps, replaced by the clean image

    def _build(self, model: nn.Module, eps: float, seed: int, device: torch.device) -> Any:
        import torchattacks

        kwargs = dict(self.params)
        if self.entry.kind == "bounded":
            kwargs["eps"] = eps
        elif self.entry.kind == "pixels":
            kwargs["pixels"] = int(eps)
        if self.entry.takes_norm:
            kwargs["norm"] = _TA_NORM[self.norm]
        if self.entry.takes_seed:
            kwargs["seed"] = seed
        attack = getattr(torchattacks, self.entry.cls)(model, **kwargs)
        attack.set_device(device)  # torchattacks guesses it from the parameters, which a model may lack
        return attack

    def __call__(
        self, classifier: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, generator: torch.Generator
    ) -> torch.Tensor:
        """Adversarial examples for ``x`` within ``eps``."""
        if len(x) == 0 or eps <= 0 or (self.entry.kind == "pixels" and int(eps) < 1):
            return x.detach().clone()
        if "n_classes" in self.params:
            with torch.no_grad():
                classes = classifier(x[:1]).shape[1]
            if classes != self.params["n_classes"]:
                raise ConfigError(
                    f"{self.entry.name}: n_classes={self.params['n_classes']} but the model has {classes} classes; "
                    f"set {self.entry.name}.n_classes={classes}"
                )
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device))
        model, inputs = classifier, x.detach()
        lift = self.entry.three_channels and x.shape[1] != 3
        if lift:
            if x.shape[1] != 1:
                raise ConfigError(f"{self.entry.name} needs 1- or 3-channel images, got {x.shape[1]} channels")
            model, inputs = _Lift(classifier), inputs.repeat(1, 3, 1, 1)
        with _seeded(seed, x.device):
            out = self._build(model, eps, seed, x.device)(inputs, y).detach().to(x.device)
        if lift:
            out = out.mean(1, keepdim=True)  # within eps of x wherever every channel is
        if self.entry.kind == "min-norm":
            size = perturbation_norm(out.double() - x.double(), self.norm)
            over = size > eps * (1 + _REL) + _ABS
            self.reverted += int(over.sum())
            out = torch.where(over.view(-1, *([1] * (x.ndim - 1))).to(out.device), x, out)
        return out.to(x.dtype)
