"""Finding a dataset's root: config file, ``LKADV_DATA_<NAME>``, ``LKADV_DATA_ROOT``.

The variables are read from the mapping given (a run passes the snapshot its
options took, :attr:`lkadv.config.RunOptions.environment`), else from
:func:`lkadv.config.lkadv_environment`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lkadv.config import DATA_ROOT_VARIABLE, lkadv_environment
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
    env = lkadv_environment() if env is None else env
    configured = configured or {}
    if spec.name in configured:
        return Path(configured[spec.name]), f"[data] {spec.name} in the config file"
    if spec.env_var in env:
        return Path(env[spec.env_var]), f"environment variable {spec.env_var}"
    if DATA_ROOT_VARIABLE in env and spec.root_folder:
        return Path(env[DATA_ROOT_VARIABLE]) / spec.root_folder, DATA_ROOT_VARIABLE
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
        f"or {DATA_ROOT_VARIABLE} (then the folder {spec.root_folder or spec.name!r} under it)"
    )
    layout = f" Expected layout: {spec.layout}." if spec.layout else ""
    if path is None:
        if spec.shipped:
            return None
        raise DataError(f"dataset {spec.name!r} has no root: {settings}.{layout}")
    if not path.is_dir():
        raise DataError(f"dataset {spec.name!r}: root {path} (from {source}) is not a folder; {settings}.{layout}")
    return path
