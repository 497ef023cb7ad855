"""Picking the device and checking what precision it supports."""

from __future__ import annotations

import torch

from lkadv.errors import ConfigError

__all__ = ["pick_device", "precision_support"]


def pick_device(requested: str = "auto") -> torch.device:
    """Resolve ``auto`` (CUDA, then MPS, then CPU) or check an explicit device.

    Raises:
        ConfigError: If the requested device is not available here.
    """
    text = requested.strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(text)
    except RuntimeError as exc:
        raise ConfigError(f"--device {requested!r} is not a device; use auto, cpu, cuda, cuda:N or mps") from exc
    if device.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"--device {requested!r} cannot run models; use auto, cpu, cuda, cuda:N or mps")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for but no CUDA GPU is available; use --device auto or cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ConfigError(f"--device {requested}: only {torch.cuda.device_count()} CUDA device(s) exist")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ConfigError("--device mps was asked for but MPS is not available")
    return device


def precision_support(device: torch.device) -> dict[str, str]:
    """For each precision, ``"yes"``, ``"slow"`` or ``"no"`` on this device (shown by ``doctor``)."""
    if device.type == "cuda":
        bf16 = "yes" if torch.cuda.is_bf16_supported() else "no"
        return {"fp32": "yes", "bf16": bf16, "fp16": "yes"}
    if device.type == "cpu":
        # Autocast runs on CPU, but without AMX it is slower than fp32 (field notes).
        return {"fp32": "yes", "bf16": "slow", "fp16": "slow"}
    return {"fp32": "yes", "bf16": "yes", "fp16": "yes"}
