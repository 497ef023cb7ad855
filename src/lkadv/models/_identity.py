"""What a model actually is once built: a digest of its loaded weights and of its code.

A plugin's ``weights_id`` is a declaration; a cached result is only as good as
its key, so the key also takes what was really loaded. The network is built
once, its state dict hashed tensor by tensor (names, dtypes, shapes, bytes),
and the source of every module that defines a class inside it hashed too, so
new weights in the same file, a changed factory or an edited ``forward``
each give new cells.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

__all__ = ["ModelIdentity", "code_digest", "identify_network", "weights_digest"]

# Classes of these packages are versioned with their distribution (recorded in
# each run's provenance); hashing their sources would only cost time.
_VERSIONED = ("torch",)


@dataclass(frozen=True)
class ModelIdentity:
    """The loaded identity of a model.

    Attributes:
        weights: ``sha256:`` digest of the state dict as built, before any merge.
        code: ``sha256:`` digest of the sources that define the network's classes
            and its factory.
        tensors: Number of tensors in the state dict.
    """

    weights: str
    code: str
    tensors: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, part of every cell key of the model."""
        return {"weights": self.weights, "code": self.code, "tensors": self.tensors}


def weights_digest(network: nn.Module) -> tuple[str, int]:
    """sha256 over every parameter and buffer of ``network``, in name order.

    Returns:
        ``("sha256:<hex>", number of tensors)``.
    """
    h = hashlib.sha256()
    state = network.state_dict(keep_vars=False)
    for name in sorted(state):
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):  # extra state of a custom module
            h.update(f"{name}|extra|{tensor!r}\n".encode())
            continue
        t = tensor.detach().to("cpu").contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}\n".encode())
        # A byte view works for every dtype (bfloat16 has no numpy twin).
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return f"sha256:{h.hexdigest()}", len(state)


def _source_of(module_name: str) -> bytes:
    module = sys.modules.get(module_name)
    if module is None:
        return f"<module {module_name} not imported>".encode()
    try:
        path = inspect.getsourcefile(module)
    except TypeError:  # built-in or C extension module
        path = None
    if path is None:
        version = getattr(module, "__version__", "unknown")
        return f"<module {module_name} without source, version {version}>".encode()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        return f"<module {module_name} unreadable: {exc}>".encode()


def code_digest(network: nn.Module, factory: object = None) -> str:
    """sha256 of the source files of the modules defining the network's classes and ``factory``.

    Modules of ``torch`` are left out: their version is recorded with every run.
    """
    names = {type(m).__module__ for m in network.modules()}
    factory_module = getattr(factory, "__module__", None)
    if isinstance(factory_module, str):
        names.add(factory_module)
    h = hashlib.sha256()
    for name in sorted(n for n in names if n.split(".")[0] not in _VERSIONED):
        h.update(f"{name}\n".encode())
        h.update(hashlib.sha256(_source_of(name)).digest())
    return f"sha256:{h.hexdigest()}"


def identify_network(network: nn.Module, factory: object = None) -> ModelIdentity:
    """The identity of a freshly built (unmerged) network."""
    weights, tensors = weights_digest(network)
    return ModelIdentity(weights, code_digest(network, factory), tensors)
