"""Finding, downloading and checking the official weight files.

Where a file is looked for, in order:

1. every folder of ``$LKADV_WEIGHTS_DIR`` (an ``os.pathsep``-separated list), under the
   official file name or ``NAME.safetensors`` / ``NAME.pth`` / ``NAME.pt``;
2. lkadv's download cache, ``$LKADV_CACHE/downloads`` (default ``~/.cache/lkadv/downloads``);
3. the Hugging Face cache, for files published on the Hub (``HF_HOME``).

If none has it and downloads are allowed (``LKADV_OFFLINE`` unset), the
published sources are tried in order: the Hub through ``hf_hub_download``,
direct URLs through :func:`lkadv.downloads.fetch` (sha256 check where one is
known, HTML pages refused). Google Drive links usually answer with an HTML
page for files this large; that is reported, with the manual steps.
This module imports neither torch nor timm.
"""

from __future__ import annotations

import os
from pathlib import Path

from lkadv.downloads import cache_dir, fetch, sha256_file
from lkadv.errors import WeightsError
from lkadv_largekernel._catalog import ARCHITECTURES, Source, WeightsEntry

__all__ = [
    "OFFLINE_ENV",
    "WEIGHTS_DIR_ENV",
    "download_dir",
    "downloads_allowed",
    "find_weights",
    "missing_message",
    "obtain_weights",
    "weights_dirs",
]

WEIGHTS_DIR_ENV = "LKADV_WEIGHTS_DIR"
OFFLINE_ENV = "LKADV_OFFLINE"


def weights_dirs() -> list[Path]:
    """The folders named by ``$LKADV_WEIGHTS_DIR``, in order."""
    raw = os.environ.get(WEIGHTS_DIR_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def download_dir() -> Path:
    """Where downloads are stored: lkadv's download cache."""
    return cache_dir() / "downloads"


def downloads_allowed() -> bool:
    """False when ``LKADV_OFFLINE`` is set to a true value."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def _hf_cached(source: Source) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - huggingface_hub comes with timm
        return None
    found = try_to_load_from_cache(source.location, source.filename)
    return Path(found) if isinstance(found, str) else None


def find_weights(entry: WeightsEntry) -> Path | None:
    """The local copy of an official file, if there is one (no network).

    Args:
        entry: The weights entry.

    Returns:
        The first match in the search order of this module, or None.
    """
    for folder in (*weights_dirs(), download_dir()):
        for name in entry.candidate_names:
            path = folder / name
            if path.is_file():
                return path
    for source in entry.sources:
        if source.kind == "hf":
            cached = _hf_cached(source)
            if cached is not None:
                return cached
    return None


def _check_hash(entry: WeightsEntry, path: Path) -> Path:
    if entry.sha256 is not None:
        got = sha256_file(path)
        if got != entry.sha256:
            raise WeightsError(
                f"{path} has sha256 {got}, but the published {entry.filename} of {entry.name} has {entry.sha256}; "
                "it is another or a damaged file"
            )
    return path


def _download(entry: WeightsEntry, source: Source) -> Path:
    if source.kind == "hf":
        from huggingface_hub import hf_hub_download

        try:
            return Path(hf_hub_download(repo_id=source.location, filename=source.filename))
        except Exception as exc:  # offline, missing file, auth: all mean "not from the Hub"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise WeightsError(
                f"cannot download {source.filename} from the Hugging Face Hub repo {source.location} "
                f"({type(exc).__name__}: {first})"
            ) from exc
    url = source.download_url
    if url is None:
        raise WeightsError(f"{source.page} needs a manual download")
    return fetch(url, sha256=entry.sha256, filename=entry.filename, folder=download_dir())


def missing_message(entry: WeightsEntry, problems: list[str] | None = None) -> str:
    """Explain that a file is missing: what was looked for, where, and how to get it.

    Args:
        entry: The weights entry.
        problems: Download attempts that failed, one line each.

    Returns:
        The message.
    """
    arch = ARCHITECTURES[entry.arch]
    dirs = weights_dirs()
    where = (
        f"${WEIGHTS_DIR_ENV} ({os.pathsep.join(map(str, dirs))})" if dirs else f"${WEIGHTS_DIR_ENV} (not set)"
    ) + f", the download cache {download_dir()}"
    if any(s.kind == "hf" for s in entry.sources):
        where += " and the Hugging Face cache"
    names = ", ".join(entry.candidate_names)
    lines = [
        f"the weights of {entry.name} ({arch.description}) are not available: looked for {names} in {where}.",
    ]
    if problems:
        lines.append("Downloads tried: " + "; ".join(problems) + ".")
    elif not downloads_allowed():
        lines.append(f"Downloads are off (${OFFLINE_ENV} is set).")
    pages = "; ".join(s.page for s in entry.sources)
    lines.append(
        f"Get {entry.filename} from {pages}, and put it in a folder named by ${WEIGHTS_DIR_ENV} "
        f"(or in {download_dir()}); `lkadv doctor` shows what is found."
    )
    if entry.note:
        lines.append(f"Note: {entry.note}.")
    return " ".join(lines)


def obtain_weights(entry: WeightsEntry, *, download: bool | None = None) -> Path:
    """A verified local copy of an official file, downloading it if needed and allowed.

    Args:
        entry: The weights entry.
        download: Allow downloads (default: unless ``LKADV_OFFLINE`` is set).

    Returns:
        Path of the file.

    Raises:
        WeightsError: If the file is not found and cannot be downloaded (the message says
            what was looked for, where, which settings to use and the official sources),
            or if its hash does not match a published one.
    """
    found = find_weights(entry)
    if found is not None:
        return _check_hash(entry, found)
    problems: list[str] = []
    if downloads_allowed() if download is None else download:
        for source in entry.sources:
            if source.kind == "baidu":
                continue
            try:
                return _check_hash(entry, _download(entry, source))
            except WeightsError as exc:
                problems.append(f"{source.kind}: {exc}")
    raise WeightsError(missing_message(entry, problems))
