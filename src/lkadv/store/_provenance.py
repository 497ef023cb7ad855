"""Provenance recorded with every run: versions, device, precision, seeds, git commit."""

from __future__ import annotations

import importlib.metadata as md
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["git_commit", "package_versions", "provenance"]

_PACKAGES = ("lkadv", "torch", "torchvision", "timm", "numpy", "pluggy", "safetensors", "pyautoattack", "torchattacks")


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages results depend on (None if absent)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(path: Path | None = None) -> str | None:
    """Commit of the lkadv source tree, with ``-dirty`` if modified; None outside git."""
    where = path or Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def provenance(device: Any, precision: str, seed: int, plugins: dict[str, str]) -> dict[str, Any]:
    """Everything needed to say how a run's numbers were made."""
    info: dict[str, Any] = {
        "versions": package_versions(),
        "platform": platform.platform(),
        "executable": sys.executable,
        "device": str(device),
        "precision": precision,
        "scoring_precision": "fp32",
        "seed": seed,
        "git_commit": git_commit(),
        "plugins": plugins,
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        if getattr(device, "type", None) == "cuda":
            info["gpu"] = torch.cuda.get_device_name(device)
            info["cuda"] = torch.version.cuda
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    return info
