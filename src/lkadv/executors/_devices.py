"""Which devices a multi-worker run uses: ``--devices auto|cuda:0,cuda:1|cpu,cpu``."""

from __future__ import annotations

from lkadv.errors import ConfigError

__all__ = ["parse_devices", "visible_gpus"]


def visible_gpus() -> int:
    """Number of CUDA GPUs this process can see (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def parse_devices(text: str, gpus: int | None = None) -> list[str]:
    """One device per worker.

    Args:
        text: ``auto`` (every visible GPU, or one CPU worker without a GPU) or
            a comma-separated list of ``cpu``, ``cuda`` and ``cuda:N``; a
            device may repeat (``cpu,cpu``: two CPU workers).
        gpus: Visible GPUs (default: ask torch).

    Raises:
        ConfigError: On an unknown device, or a GPU this machine does not have.
    """
    gpus = visible_gpus() if gpus is None else gpus
    items = [item.strip().lower() for item in text.split(",") if item.strip()]
    if items in ([], ["auto"]):
        return [f"cuda:{i}" for i in range(gpus)] or ["cpu"]
    devices = []
    for item in items:
        kind, _, index = item.partition(":")
        if kind == "cpu" and not index:
            devices.append("cpu")
            continue
        if kind != "cuda" or (index and not index.isdigit()):
            raise ConfigError(f"--devices {text!r}: {item!r} is not a device; use auto, cpu or cuda:N, comma-separated")
        number = int(index or 0)
        if number >= gpus:
            have = f"only {gpus} CUDA GPU(s) are visible" if gpus else "no CUDA GPU is visible"
            raise ConfigError(f"--devices {text!r}: {item} does not exist here ({have}); use --devices auto or cpu")
        devices.append(f"cuda:{number}")
    return devices
