"""Reading checkpoints safely: safetensors, or ``torch.load(weights_only=True)``.

Arbitrary pickles are never executed. Files that are HTML pages (what Google
Drive serves past its quota), truncated files and state dicts whose keys do not
fit the model all fail with a message naming the file and what was expected.
"""

from __future__ import annotations

import argparse
import json
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lkadv.downloads import looks_like_html
from lkadv.errors import WeightsError

__all__ = ["check_checkpoint_file", "load_into", "read_state_dict", "state_dict_misfit"]

_WRAPPER_KEYS = ("model", "state_dict", "model_ema", "module")
# Checkpoints from the ConvNeXt-derived training scripts (ConvNeXt, RepLKNet, SLaK, UniRepLKNet...)
# also store the run's argparse.Namespace. Unpickling one only sets attributes from plain values, so
# it is allowed; every other non-tensor object is still refused by weights_only=True.
_SAFE_GLOBALS: list[Any] = [argparse.Namespace]
# BatchNorm's batch counter is not a weight (eval mode never reads it); some converters drop it.
_OPTIONAL_SUFFIX = ".num_batches_tracked"


def check_checkpoint_file(path: Path) -> None:
    """Cheap checks of a weights file before another library (timm) reads it.

    It must exist, not be empty or a web page, and a safetensors file's header
    must parse (its length field pointing inside the file).

    Raises:
        WeightsError: Naming the file and what is wrong with it.
    """
    if not path.is_file():
        raise WeightsError(f"checkpoint {path} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"checkpoint {path} is empty")
    if looks_like_html(path):
        raise WeightsError(
            f"checkpoint {path} is an HTML page, not weights (a download link that served a "
            "confirmation or quota page). Download the file again and check its size and sha256."
        )
    if path.suffix != ".safetensors":
        return
    with path.open("rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else -1
        if not 0 < length <= size - 8:
            raise WeightsError(
                f"checkpoint {path} is not a safetensors file: its header length ({length}) does not fit a "
                f"file of {size} bytes (truncated, or another format saved as .safetensors)"
            )
        try:
            json.loads(f.read(length))
        except (UnicodeDecodeError, ValueError) as exc:
            raise WeightsError(f"checkpoint {path} is not a safetensors file: its header is not JSON") from exc


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors``, ``.pth``, ``.pt`` or ``.bin``.

    A dict wrapped under ``model``, ``state_dict``, ``model_ema`` or ``module``
    is unwrapped, and a ``module.`` prefix left by DataParallel is removed.

    Args:
        path: The checkpoint file.

    Returns:
        Tensor values by key.

    Raises:
        WeightsError: If the file is missing, an HTML page, truncated, unsafe or not a state dict.
    """
    if not path.is_file():
        raise WeightsError(f"checkpoint {path} does not exist")
    if path.stat().st_size == 0:
        raise WeightsError(f"checkpoint {path} is empty")
    if looks_like_html(path):
        raise WeightsError(
            f"checkpoint {path} is an HTML page, not weights (a download link that served a "
            "confirmation or quota page). Download the file again and check its size and sha256."
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state: object = load_file(str(path), device="cpu")
        else:
            with torch.serialization.safe_globals(_SAFE_GLOBALS):
                state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise WeightsError(
            f"checkpoint {path} holds objects other than tensors and cannot be loaded safely "
            f"(weights_only=True refused it: {str(exc).splitlines()[0]}). Re-save its state_dict."
        ) from exc
    except (RuntimeError, OSError, EOFError, ValueError, zipfile.BadZipFile, Exception) as exc:
        raise WeightsError(f"checkpoint {path} is truncated or corrupt: {type(exc).__name__}: {exc}") from exc
    return _unwrap(state, path)


def _unwrap(state: object, path: Path) -> dict[str, torch.Tensor]:
    for _ in range(3):
        if isinstance(state, Mapping) and not any(isinstance(v, torch.Tensor) for v in state.values()):
            inner = next((state[k] for k in _WRAPPER_KEYS if k in state), None)
            if inner is None:
                break
            state = inner
    if not isinstance(state, Mapping) or not state:
        raise WeightsError(f"checkpoint {path} does not hold a state dict")
    tensors = {str(k): v for k, v in state.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise WeightsError(f"checkpoint {path} holds no tensors")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors


def state_dict_misfit(model: nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    """What keeps ``state`` from loading strictly into ``model``: missing keys, unexpected keys, shape mismatches.

    BatchNorm batch counters (``num_batches_tracked``) are never required. Empty when it fits.
    """
    own = model.state_dict()
    missing = sorted(k for k in set(own) - set(state) if not k.endswith(_OPTIONAL_SUFFIX))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing key(s) (e.g. {', '.join(missing[:4])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected key(s) (e.g. {', '.join(unexpected[:4])})")
    if shapes:
        parts.append(f"{len(shapes)} shape mismatch(es) (e.g. {'; '.join(shapes[:3])})")
    return parts


def load_into(model: nn.Module, path: Path) -> nn.Module:
    """Load a checkpoint strictly into ``model``.

    Args:
        model: The freshly built network.
        path: Checkpoint file.

    Returns:
        The same model, with its weights loaded.

    Raises:
        WeightsError: If keys or shapes do not match; the message lists the differences.
    """
    state = read_state_dict(path)
    own = model.state_dict()
    for key in set(own) - set(state):
        if key.endswith(_OPTIONAL_SUFFIX):
            state[key] = own[key]
    parts = state_dict_misfit(model, state)
    if parts:
        raise WeightsError(
            f"checkpoint {path} does not fit {type(model).__name__}: {'; '.join(parts)}. "
            "Is it the right variant, and an unmerged (training-time) checkpoint?"
        )
    model.load_state_dict(state, strict=True)
    return model
