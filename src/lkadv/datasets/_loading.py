"""Calling a dataset plugin's loader the way every run calls it."""

from __future__ import annotations

import inspect
from pathlib import Path

from lkadv.errors import DataError, LkadvError
from lkadv.specs import DatasetSpec, ImageSet, LoadContext, Preprocessing
from lkadv.types import resolve

__all__ = ["call_loader", "load_imageset"]


def call_loader(dataset: DatasetSpec, root: Path | None, pre: Preprocessing, context: LoadContext) -> ImageSet:
    """The loader's ImageSet; the context is passed only to loaders that take one (older plugins do not)."""
    loader = resolve(dataset.loader)
    try:
        takes_context = "context" in inspect.signature(loader).parameters
    except (TypeError, ValueError):
        takes_context = False
    imageset: ImageSet = loader(root, pre, context=context) if takes_context else loader(root, pre)
    return imageset


def load_imageset(dataset: DatasetSpec, root: Path | None, pre: Preprocessing, context: LoadContext) -> ImageSet:
    """:func:`call_loader`, with any error but lkadv's own reported as the plugin's DataError.

    Raises:
        DataError: If the loader fails (every cell needs it, so the run cannot start).
    """
    try:
        return call_loader(dataset, root, pre, context)
    except LkadvError:
        raise
    except Exception as exc:  # the dataset plugin's own code
        raise DataError(
            f"dataset {dataset.name!r}: its loader raised {type(exc).__name__}: {exc} (root {root})"
        ) from exc
