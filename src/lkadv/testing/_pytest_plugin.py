"""The pytest plugin of the kit (entry point ``pytest11: lkadv``): fixtures for plugin tests.

Loaded by every pytest run in an environment with lkadv installed, so it imports
nothing heavy until a fixture is used. Disable it with ``pytest -p no:lkadv``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import torch

    from lkadv.models import Classifier
    from lkadv.plugins import PluginHost

__all__ = ["lkadv_host", "lkadv_tiny_classifier", "lkadv_tiny_images"]


@pytest.fixture(scope="session")
def lkadv_host() -> PluginHost:
    """A plugin host with every installed plugin, as ``lkadv`` itself loads them."""
    from lkadv.plugins import PluginHost

    return PluginHost()


@pytest.fixture
def lkadv_tiny_images() -> Callable[..., torch.Tensor]:
    """:func:`lkadv.testing.tiny_images`: ``(shape=(3, 16, 16), n=4, seed=0) -> images``."""
    from lkadv.testing._inputs import tiny_images

    return tiny_images


@pytest.fixture
def lkadv_tiny_classifier() -> Classifier:
    """A small fixed 3-channel, 10-class classifier to run attacks against."""
    from lkadv.testing._inputs import tiny_classifier

    return tiny_classifier()
