"""Models that fail on purpose inside a worker, for the scale-out tests (load with tests.toy_plugin).

``fault-kill`` is ``toy-0`` (same weights, same outputs) whose process kills
itself with SIGKILL at its Nth forward pass, once: the first process to get
there creates a marker file, and no later process kills itself. ``fault-crash``
kills its process at every forward pass in a worker. ``fault-oom`` raises
torch's OutOfMemoryError for batches larger than 32 samples, as a small GPU
would. ``fault-unseeded`` gets other weights in every process that builds
it, as a factory that forgets to seed its initialisation. The settings
travel in the models' factory arguments (picked up from
``LKADV_FAULT_DIR`` when the plugin is registered), so spawned workers and Ray
actors see them without any other set-up. The driver never runs a forward
pass, only builds the model to identify it, so only workers die.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import torch

from lkadv import ModelSpec, hookimpl
from tests.toy_plugin import toy_model

OOM_ABOVE = 32


class Faulty(torch.nn.Module):
    """``toy_model(seed)`` with a fault at a given forward pass."""

    def __init__(self, seed: int, mode: str, marker: str, at: int) -> None:
        super().__init__()
        self.net = toy_model(seed)
        self.mode, self.marker, self.at = mode, marker, at
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.mode == "oom" and x.shape[0] > OOM_ABOVE:
            raise torch.OutOfMemoryError(f"fake: a batch of {x.shape[0]} does not fit (at most {OOM_ABOVE})")
        if self.mode == "crash" or (self.mode == "kill" and self.calls == self.at and self._first()):
            os.kill(os.getpid(), signal.SIGKILL)
        out: torch.Tensor = self.net(x)
        return out

    def _first(self) -> bool:
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True


def faulty(seed: int, mode: str, marker: str, at: int) -> torch.nn.Module:
    """The factory (module-level, so workers can import it); ``unseeded`` builds other weights in each process."""
    if mode == "unseeded":
        seed = os.getpid()
    return Faulty(seed, mode, marker, at)


@hookimpl
def lkadv_register_models(registry):
    folder = Path(os.environ.get("LKADV_FAULT_DIR", "/nonexistent"))
    at = int(os.environ.get("LKADV_FAULT_AT", "30"))
    for mode in ("kill", "crash", "oom", "unseeded"):
        registry.register(
            ModelSpec(
                name=f"fault-{mode}",
                family="tiny",
                factory=faulty,
                factory_kwargs={"seed": 0, "mode": mode, "marker": str(folder / f"{mode}.marker"), "at": at},
                label_space="toy",
                num_classes=4,
                input_size=(1, 8, 8),
                mean=(0.5,),
                std=(0.25,),
                tags=frozenset({"fault"}),
            )
        )
