"""torchattacks' attack catalog as lkadv attacks (entry point ``torchattacks`` in group ``lkadv``)."""

from lkadv_torchattacks._catalog import CATALOG, Entry

__version__ = "0.1.0"

__all__ = ["CATALOG", "Entry", "__version__"]
