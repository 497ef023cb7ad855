"""Finding a dataset's root: config file, ``LKADV_DATA_<NAME>``, ``LKADV_DATA_ROOT``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lkadv.errors import DataError
from lkadv.specs import DatasetSpec

__all__ = ["find_root", "resolve_root"]


def find_root(
    spec: DatasetSpec, configured: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path | None, str]:
    """Where a dataset's root should be, and which setting said so.

    Returns:
        ``(path, source)``; ``path`` is None when nothing points anywhere (shipped
        data, or not configured). The path may not exist.
    """
    env = os.environ if env is None else env
    configured = configured or {}
    if spec.name in configured:
        return Path(configured[spec.name]), f"[data] {spec.name} in the config file"
    if spec.env_var in env:
        return Path(env[spec.env_var]), f"environment variable {spec.env_var}"
    if "LKADV_DATA_ROOT" in env and spec.root_folder:
        return Path(env["LKADV_DATA_ROOT"]) / spec.root_folder, "LKADV_DATA_ROOT"
    return None, "shipped" if spec.shipped else "not configured"


def resolve_root(
    spec: DatasetSpec, configured: Mapping[str, str] | None = None, env: Mapping[str, str] | None = None
) -> Path | None:
    """The dataset root to load from, checked to exist.

    Returns:
        The root, or None for shipped data with no override.

    Raises:
        DataError: If the root is not configured or does not exist; the message
            names the settings to change and the expected layout.
    """
    path, source = find_root(spec, configured, env)
    settings = (
        f'set [data] {spec.name} = "PATH" in lkadv.toml, the environment variable {spec.env_var}, '
        f"or LKADV_DATA_ROOT (then the folder {spec.root_folder or spec.name!r} under it)"
    )
    layout = f" Expected layout: {spec.layout}." if spec.layout else ""
    if path is None:
        if spec.shipped:
            return None
        raise DataError(f"dataset {spec.name!r} has no root: {settings}.{layout}")
    if not path.is_dir():
        raise DataError(f"dataset {spec.name!r}: root {path} (from {source}) is not a folder; {settings}.{layout}")
    return path
